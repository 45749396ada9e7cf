"""videobench.align: Flow-DPO, Flow-RWR, the noisy-latent reward model and Flow-NRG for flow-matching video pipelines."""

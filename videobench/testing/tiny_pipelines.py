"""Tiny Wan and LTX-Video pipelines built offline (random weights, no download), for tests, demos and benchmarks.

The configs are those of diffusers' own tests (see ``/work/shared/TINY_MODELS.md``): a full pipeline renders a few
frames in well under a second on one CPU core. Weights are deterministic for a given ``seed``.

    pipe = build_tiny_wan_pipeline()                    # in memory
    pipe = build_tiny_wan_pipeline(out_dir="tiny-wan")  # also saved; WanPipeline.from_pretrained("tiny-wan") loads it
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # heavy imports stay inside the functions
    from diffusers import LTXPipeline, WanPipeline
    from transformers import PreTrainedTokenizerFast

__all__ = [
    "tiny_t5_tokenizer",
    "build_tiny_wan_pipeline",
    "build_tiny_ltx_pipeline",
    "make_decoder_informative",
    "TINY_WAN_TRANSFORMER",
    "TINY_LTX_TRANSFORMER",
]

# A small English corpus for the Unigram tokenizer; the vocabulary only has to cover prompts in tests reasonably.
_CORPUS = [
    "a cat playing the piano in a sunny room",
    "a dog running on the beach at sunset",
    "a red car driving through a city street at night",
    "an astronaut riding a horse on the moon",
    "waves crashing on rocks, slow motion, cinematic",
    "a bright white light, a dark black scene, colourful flowers",
    "a person walking in the rain with an umbrella",
    "the quick brown fox jumps over the lazy dog",
    "timelapse of clouds moving over mountains",
    "close-up of a bird flying in the blue sky",
]

TINY_WAN_TRANSFORMER = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=12,
    in_channels=16,
    out_channels=16,
    text_dim=32,
    freq_dim=256,
    ffn_dim=32,
    num_layers=2,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    rope_max_seq_len=32,
)
TINY_WAN_VAE = dict(
    base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
)
TINY_LTX_TRANSFORMER = dict(
    in_channels=8,
    out_channels=8,
    patch_size=1,
    patch_size_t=1,
    num_attention_heads=4,
    attention_head_dim=8,
    cross_attention_dim=32,
    num_layers=1,
    caption_channels=32,
)
TINY_LTX_VAE = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=8,
    block_out_channels=(8, 8, 8, 8),
    decoder_block_out_channels=(8, 8, 8, 8),
    layers_per_block=(1, 1, 1, 1, 1),
    decoder_layers_per_block=(1, 1, 1, 1, 1),
    spatio_temporal_scaling=(True, True, False, False),
    decoder_spatio_temporal_scaling=(True, True, False, False),
    decoder_inject_noise=(False, False, False, False, False),
    upsample_residual=(False, False, False, False),
    upsample_factor=(1, 1, 1, 1),
    timestep_conditioning=False,
    patch_size=1,
    patch_size_t=1,
    encoder_causal=True,
    decoder_causal=False,
)


def tiny_t5_tokenizer() -> "PreTrainedTokenizerFast":
    """A T5/UMT5-style Unigram tokenizer (vocab 100, ``<pad>``=0, ``</s>``=1, ``<unk>``=2) trained offline."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=100, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def _text_encoder(kind: str, vocab_size: int):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    values = dict(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    if kind == "umt5":
        return UMT5EncoderModel(UMT5Config(**values)).eval()
    return T5EncoderModel(T5Config(**values)).eval()


def _save(pipe, out_dir: str | Path | None):
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        pipe.save_pretrained(str(out_dir))
    return pipe


def build_tiny_wan_pipeline(out_dir: str | Path | None = None, seed: int = 0) -> "WanPipeline":
    """A ``WanPipeline`` with a 28k-parameter transformer, tiny VAE and UMT5 encoder; saved to ``out_dir`` if given.

    The scheduler is ``FlowMatchEulerDiscreteScheduler(shift=7.0)`` as in Wan's release. Frame counts must be
    4k + 1 and sizes multiples of 16 (VAE ×8 spatial, patch 2).
    """
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    tokenizer = tiny_t5_tokenizer()
    torch.manual_seed(seed)
    vae = AutoencoderKLWan(**TINY_WAN_VAE).eval()
    torch.manual_seed(seed + 1)
    text_encoder = _text_encoder("umt5", len(tokenizer))
    torch.manual_seed(seed + 2)
    transformer = WanTransformer3DModel(**TINY_WAN_TRANSFORMER).eval()
    scheduler = FlowMatchEulerDiscreteScheduler(shift=7.0)
    pipe = WanPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer
    )
    pipe.set_progress_bar_config(disable=True)
    return _save(pipe, out_dir)


def build_tiny_ltx_pipeline(out_dir: str | Path | None = None, seed: int = 0) -> "LTXPipeline":
    """An ``LTXPipeline`` with a 35k-parameter transformer, tiny causal VAE and T5 encoder; saved if ``out_dir``.

    Frame counts must be 8k + 1 and sizes multiples of 32 are safe (the tiny VAE compresses ×4 spatially, ×4 in time).
    """
    import torch
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline, LTXVideoTransformer3DModel

    tokenizer = tiny_t5_tokenizer()
    torch.manual_seed(seed)
    vae = AutoencoderKLLTXVideo(**TINY_LTX_VAE).eval()
    torch.manual_seed(seed + 1)
    text_encoder = _text_encoder("t5", len(tokenizer))
    torch.manual_seed(seed + 2)
    transformer = LTXVideoTransformer3DModel(**TINY_LTX_TRANSFORMER).eval()
    scheduler = FlowMatchEulerDiscreteScheduler()
    pipe = LTXPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer
    )
    pipe.set_progress_bar_config(disable=True)
    return _save(pipe, out_dir)


def make_decoder_informative(pipe, gain: float = 100.0, keep_architecture: bool = False):
    """Make the random tiny VAE decoder respond to its latents the way a trained one does (in place).

    Use it wherever a test must learn or steer a pixel reward through the tiny pipeline (alignment, Flow-NRG).

    A randomly initialised decoder maps every latent to nearly the same video: its normalisation layers wash the
    latent out (the mean brightness of tiny-Wan samples varies by ~1e-4 across seeds, below uint8 resolution), so
    no pixel reward could be learned or steered. Zeroing each residual branch's last convolution and the attention
    projection, dropping the output norm and activation, and scaling the input convolution by ``gain`` leaves a
    linear decoder whose pixel statistics move by a few uint8 levels with the latent. Returns ``pipe``.

    ``keep_architecture``: change weights only (keep the output norm and activation), so ``save_pretrained`` /
    ``from_pretrained`` round-trip it, e.g. for ``videobench compare``; pixel statistics then move ~5× less (the
    contrast of tiny-Wan samples varies by ~1e-3 across seeds instead of ~1.5e-4 for the random decoder).
    """
    import torch

    dec = pipe.vae.decoder
    with torch.no_grad():
        for name, module in dec.named_modules():
            if name.endswith("conv2") or name.endswith(".proj"):
                for p in module.parameters():
                    p.zero_()
        conv_in = dec.conv_in.conv if hasattr(dec.conv_in, "conv") else dec.conv_in
        conv_in.weight.mul_(gain)
    if keep_architecture:
        return pipe
    dec.norm_out = torch.nn.Identity()
    for attr in ("nonlinearity", "conv_act"):
        if hasattr(dec, attr):
            setattr(dec, attr, torch.nn.Identity())
    return pipe

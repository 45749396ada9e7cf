"""Who submits: the name a request is filed under, and so the name its quota counts against.

- A Hub store: the Hub user of the token (``HfApi.whoami``), so a quota is per person. A typed name that differs is
  refused (a typo or someone else's name would otherwise move the request to another quota). The Space passes the
  user its OAuth login verified instead (its own token is the board's, not the submitter's).
- A local store has no accounts: the typed name, else ``$USER``, else ``anonymous``. Nothing checks it; a local
  board trusts whoever can write to its folder.
"""

from __future__ import annotations

import os
import re

from videobench.leaderboard.errors import SubmissionRefused
from videobench.leaderboard.store import Store

_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def _checked(name: str, what: str) -> str:
    if not _NAME.fullmatch(name) or not name.strip():
        raise SubmissionRefused(f"{what} {name!r} is not allowed: 1-100 printable characters")
    return name


def hub_user(store: Store) -> str:
    """The Hub user name of the token the store writes with; refused when there is none or the Hub rejects it."""
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    try:
        return str(store.api.whoami()["name"])  # type: ignore[attr-defined]
    except (LocalTokenNotFoundError, ValueError) as exc:  # ValueError: token=False
        repo = getattr(store, "repo_id", "?")
        raise SubmissionRefused(
            f"{repo} is read as a Hub dataset repo (no such local folder), and a Hub store files requests under the "
            f"Hub user of your token, and no token was found: log in with `hf auth login` or set HF_TOKEN; for a "
            f"new local store write ./{repo}") from exc
    except HfHubHTTPError as exc:
        raise SubmissionRefused(f"the Hub did not accept your token, so the submitter is unknown: {exc}") from exc


def submitter_identity(store: Store, typed: str | None = None, *, verified_user: str | None = None) -> str:
    """The submitter of a request to ``store`` (rules in the module docstring). ``verified_user``: a Hub user name
    an OAuth login proved (the Space); without it a Hub store asks the Hub whose token this is."""
    from videobench.leaderboard.hub_store import HubStore

    if isinstance(store, HubStore):
        user = verified_user if verified_user is not None else hub_user(store)
        if typed and typed != user:
            raise SubmissionRefused(
                f"--submitter {typed!r}: on a Hub store the submitter is the Hub user of your token ({user!r}); "
                f"leave --submitter out (or pass {user!r})")
        return user
    return _checked(typed or os.environ.get("USER") or "anonymous", "submitter")

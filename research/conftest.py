"""What tests/conftest.py does before any test, for the research smoke tests (a run of
``pytest research`` does not load tests/conftest.py): a throw-away data and classifier
cache, so that nothing is written to ~/.cache/gan_helpers, and gan_helpers imported first,
so that TensorFlow starts quietly. The research tests use no shared fixture."""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("GAN_CACHE_DIR", tempfile.mkdtemp(prefix="gan-helpers-research-cache-"))

import gan_helpers  # noqa: E402,F401

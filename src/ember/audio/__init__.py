"""``ember.audio``: spectrograms, mel filter banks, MFCCs and mu-law (ember's torchaudio).

``import ember.audio as torchaudio`` runs torchaudio code built on ``functional`` and
``transforms``: ``Spectrogram``, ``MelSpectrogram``, ``MFCC``, ... with torchaudio's
defaults, buffers and state-dict keys, computed with ember ops so that gradients flow back
to the waveform. ember has no complex dtype, so the complex spectrum (``power=None``) is
not available. There is no audio I/O (``load``, ``save``) or resampling.
"""

from .. import __version__
from . import functional, transforms

__all__ = ["functional", "transforms", "__version__"]

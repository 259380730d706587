"""``ember.audio.functional``: torchaudio's functional API (spectrograms, mel filter banks,
the DCT, decibels, mu-law)."""

from .functional import (
    DB_to_amplitude, amplitude_to_DB, create_dct, melscale_fbanks, mu_law_decoding,
    mu_law_encoding, spectrogram,
)

__all__ = ["spectrogram", "melscale_fbanks", "create_dct", "amplitude_to_DB",
           "DB_to_amplitude", "mu_law_encoding", "mu_law_decoding"]

"""``ember.audio.transforms``: torchaudio's transforms as ``ember.nn`` modules."""

from ._transforms import (
    MFCC, AmplitudeToDB, MelScale, MelSpectrogram, MuLawDecoding, MuLawEncoding, Spectrogram,
)

__all__ = ["Spectrogram", "MelScale", "MelSpectrogram", "AmplitudeToDB", "MFCC",
           "MuLawEncoding", "MuLawDecoding"]

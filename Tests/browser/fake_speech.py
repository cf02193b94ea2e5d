"""A microphone that talks like a person for Chromium's fake capture device: bursts of voiced sound and pauses.

Chromium's own fake microphone beeps for a moment once a second, which is not what a speaking member sounds like:
an SFU's talking detection (Janus's audio levels over a window of packets) either never fires on it or fires by
chance. This writes a WAV that Chromium loops (`--use-file-for-fake-audio-capture`): 1.2 s of a voiced sound (a
140 Hz fundamental with harmonics, its loudness moving at a syllable rate of ~4 Hz, peaks around -10 dBFS), then
1.2 s of silence, so a listener sees a member start and stop talking every 2.4 s.
"""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from pathlib import Path

RATE = 48_000
TALK_SECONDS = 1.2
PAUSE_SECONDS = 1.2


def samples() -> list[int]:
    out: list[int] = []
    for i in range(int(RATE * TALK_SECONDS)):
        t = i / RATE
        # Syllables: loudness between 35 % and 100 % at 4 Hz, faded in and out over 30 ms at the burst's ends.
        envelope = 0.35 + 0.65 * (0.5 - 0.5 * math.cos(2 * math.pi * 4 * t))
        edge = min(1.0, t / 0.03, (TALK_SECONDS - t) / 0.03)
        voiced = sum(math.sin(2 * math.pi * 140 * k * t) / k for k in range(1, 8)) / 2.6
        out.append(int(32767 * 0.32 * envelope * edge * voiced))
    out += [0] * int(RATE * PAUSE_SECONDS)
    return out


def wav() -> Path:
    """Writes the WAV (mono, 16-bit, 48 kHz; one file in the temp folder, replaced whole) and returns its path."""
    path = Path(tempfile.gettempdir()) / "commune-fake-speech.wav"
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".commune-fake-speech-", suffix=".wav", delete=False) as file:
        with wave.open(file, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(b"".join(struct.pack("<h", s) for s in samples()))
    Path(file.name).chmod(0o644)
    Path(file.name).replace(path)
    return path


def chromium_flag() -> str:
    """The Chromium flag that makes the fake microphone play this speech, looped."""
    return f"--use-file-for-fake-audio-capture={wav()}"

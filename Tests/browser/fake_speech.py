"""A microphone that talks like a person for Chromium's fake capture device: bursts of voiced sound and pauses.

Chromium's own fake microphone beeps for a moment once a second, which is not what a speaking member sounds like:
an SFU's talking detection (Janus's audio levels over a window of packets) either never fires on it or fires by
chance. This writes a WAV that Chromium loops (`--use-file-for-fake-audio-capture`): 1.2 s of a voiced sound (a
140 Hz fundamental with harmonics, its loudness moving at a syllable rate of ~4 Hz, peaks around -10 dBFS), then
1.2 s of silence, so a listener sees a member start and stop talking every 2.4 s.

Each member gets a voice of their own (another pitch, another rhythm). With one file for everyone, every browser's
microphone played the very sound its speaker played back from the others, a little later: the echo canceller took
one member's speech for the echo of another's and removed it for seconds at a time, until the two drifted apart
(seen in CI: Janus heard nothing from Bob for 7 s while Alice's bursts came on time).
"""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

RATE = 48_000


@dataclass(frozen=True)
class Voice:
    """A speaker: the fundamental's pitch (Hz) and how long each burst of talk and each pause lasts (s)."""

    pitch: float
    talk: float
    pause: float


# Pitches whose harmonics (up to the 7th) never meet, and periods that are not multiples of each other.
VOICES = {
    "alice": Voice(pitch=140, talk=1.2, pause=1.2),
    "bob": Voice(pitch=197, talk=1.1, pause=1.5),
    "carol": Voice(pitch=163, talk=1.0, pause=1.3),
}


def samples(voice: Voice) -> list[int]:
    out: list[int] = []
    for i in range(int(RATE * voice.talk)):
        t = i / RATE
        # Syllables: loudness between 35 % and 100 % at 4 Hz, faded in and out over 30 ms at the burst's ends.
        envelope = 0.35 + 0.65 * (0.5 - 0.5 * math.cos(2 * math.pi * 4 * t))
        edge = min(1.0, t / 0.03, (voice.talk - t) / 0.03)
        voiced = sum(math.sin(2 * math.pi * voice.pitch * k * t) / k for k in range(1, 8)) / 2.6
        out.append(int(32767 * 0.32 * envelope * edge * voiced))
    out += [0] * int(RATE * voice.pause)
    return out


def wav(name: str) -> Path:
    """Writes `name`'s WAV (mono, 16-bit, 48 kHz; one file per voice in the temp folder, replaced whole) and
    returns its path."""
    voice = VOICES[name]
    path = Path(tempfile.gettempdir()) / f"commune-fake-speech-{name}.wav"
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".commune-fake-speech-", suffix=".wav", delete=False) as file:
        with wave.open(file, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(b"".join(struct.pack("<h", s) for s in samples(voice)))
    Path(file.name).chmod(0o644)
    Path(file.name).replace(path)
    return path


def chromium_flag(name: str) -> str:
    """The Chromium flag that makes the fake microphone of `name` (alice, bob or carol) play their speech, looped."""
    return f"--use-file-for-fake-audio-capture={wav(name.lower())}"

"""Media the emulator inspects or makes: PNG sizes and small fake OGG voice notes."""

from __future__ import annotations


def png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


OPUS_RATE = 48_000  # Opus granule positions count 48 kHz samples whatever the input rate
_PRE_SKIP = 312
_SILENT_FRAME = b"\xf8\xff\xfe"  # one 20 ms Opus frame of silence (CELT, mono)


def _ogg_crc(data: bytes) -> int:
    """The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packets: list[bytes], *, sequence: int, granule: int, flags: int) -> bytes:
    segments = bytearray()
    for packet in packets:  # each packet here is shorter than 255 bytes: one segment
        segments.append(len(packet))
    header = (
        b"OggS"
        + bytes([0, flags])
        + granule.to_bytes(8, "little")
        + (0x5EED).to_bytes(4, "little")  # stream serial number
        + sequence.to_bytes(4, "little")
        + bytes(4)  # checksum, filled in below
        + bytes([len(segments)])
        + bytes(segments)
    )
    page = bytearray(header + b"".join(packets))
    page[22:26] = _ogg_crc(bytes(page)).to_bytes(4, "little")
    return bytes(page)


def silent_voice_note(duration: int) -> bytes:
    """A small, valid OGG/Opus file of ``duration`` seconds of silence, like a voice note."""
    head = (
        b"OpusHead"
        + bytes([1, 1])  # version, mono
        + _PRE_SKIP.to_bytes(2, "little")
        + (OPUS_RATE).to_bytes(4, "little")
        + bytes(3)  # output gain 0, channel mapping family 0
    )
    vendor = b"telegram_emulator"
    tags = b"OpusTags" + len(vendor).to_bytes(4, "little") + vendor + bytes(4)
    pages = [
        _ogg_page([head], sequence=0, granule=0, flags=0x02),
        _ogg_page([tags], sequence=1, granule=0, flags=0),
    ]
    frames = max(duration, 0) * 50
    samples = _PRE_SKIP
    sequence = 2
    while frames > 0 or sequence == 2:
        count = min(frames, 255)
        frames -= count
        samples += count * OPUS_RATE // 50
        pages.append(
            _ogg_page(
                [_SILENT_FRAME] * count,
                sequence=sequence,
                granule=samples,
                flags=0 if frames else 0x04,
            )
        )
        sequence += 1
    return b"".join(pages)

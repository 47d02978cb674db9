# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test helpers that put an NTFS volume into the states Windows leaves it
in, without Windows: the dirty flag of $Volume (chkdsk pending) and a
BitLocker signature. Pure byte edits of an image file or device region;
no mount. Only for tests."""

import struct

VOLUME_RECORD = 3
VOLUME_INFORMATION = 0x70
VOLUME_IS_DIRTY = 0x0001


def _geometry(f, offset):
    f.seek(offset)
    boot = f.read(512)
    if boot[3:11] != b"NTFS    ":
        raise ValueError("not an NTFS boot sector")
    bps = struct.unpack_from("<H", boot, 0x0B)[0]
    spc = boot[0x0D]
    if spc > 0x80:
        spc = 1 << (256 - spc)
    cluster = bps * spc
    mft_lcn, mirr_lcn = struct.unpack_from("<QQ", boot, 0x30)
    cpr = struct.unpack_from("<b", boot, 0x40)[0]
    rec = cluster * cpr if cpr > 0 else 1 << -cpr
    return cluster, mft_lcn, mirr_lcn, rec


def _edit_record(f, pos, rec_size, edit):
    """Reads the MFT record at pos, undoes the update sequence fixups,
    lets edit() change it, redoes the fixups and writes it back."""
    f.seek(pos)
    buf = bytearray(f.read(rec_size))
    if buf[0:4] != b"FILE":
        raise ValueError("no FILE record at %d" % pos)
    usa_ofs, usa_count = struct.unpack_from("<HH", buf, 4)
    usn = buf[usa_ofs:usa_ofs + 2]
    for i in range(1, usa_count):
        end = i * 512 - 2
        buf[end:end + 2] = buf[usa_ofs + 2 * i:usa_ofs + 2 * i + 2]
    edit(buf)
    for i in range(1, usa_count):
        end = i * 512 - 2
        buf[usa_ofs + 2 * i:usa_ofs + 2 * i + 2] = buf[end:end + 2]
        buf[end:end + 2] = usn
    f.seek(pos)
    f.write(buf)


def _set_volume_flags(buf, set_bits):
    off = struct.unpack_from("<H", buf, 0x14)[0]
    while off + 8 <= len(buf):
        atype, alen = struct.unpack_from("<II", buf, off)
        if atype == 0xFFFFFFFF or alen == 0:
            break
        if atype == VOLUME_INFORMATION and buf[off + 8] == 0:
            voff = struct.unpack_from("<H", buf, off + 0x14)[0]
            flags_at = off + voff + 0x0A
            flags = struct.unpack_from("<H", buf, flags_at)[0]
            struct.pack_into("<H", buf, flags_at, flags | set_bits)
            return
        off += alen
    raise ValueError("$Volume has no VOLUME_INFORMATION")


def set_dirty(path, offset=0):
    """Marks the volume dirty in $MFT and $MFTMirr alike (ntfs-3g compares
    the two and would report the mismatch instead)."""
    with open(path, "r+b") as f:
        cluster, mft_lcn, mirr_lcn, rec = _geometry(f, offset)
        for lcn in (mft_lcn, mirr_lcn):
            pos = offset + lcn * cluster + VOLUME_RECORD * rec
            _edit_record(f, pos, rec, lambda b: _set_volume_flags(b, VOLUME_IS_DIRTY))


def set_bitlocker(path, offset=0):
    """The OEM id BitLocker writes: "-FVE-FS-" at byte 3 of the volume."""
    with open(path, "r+b") as f:
        f.seek(offset + 3)
        f.write(b"-FVE-FS-")

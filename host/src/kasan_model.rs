// SPDX-License-Identifier: GPL-2.0

//! A reference model of KASAN generic's range check for one access
//! (mm/kasan/generic.c: check_region_inline(), memory_is_poisoned_1(),
//! memory_is_poisoned_2_4_8()), written from the kernel's definitions.

/// `KASAN_GRANULE_SIZE`.
pub const GRANULE: u64 = 8;

/// Shadow values the tests use: valid, partial granules, and poison codes
/// (mm/kasan/kasan.h: KASAN_PAGE_FREE 0xff, KASAN_PAGE_REDZONE 0xfe,
/// KASAN_SLAB_REDZONE 0xfc, KASAN_SLAB_FREE 0xfb, KASAN_GLOBAL_REDZONE
/// 0xf9, KASAN_VMALLOC_INVALID 0xf8, KASAN_SLAB_FREE_META 0xfa).
pub const SHADOW_VALUES: [u8; 15] = [
    0, 1, 2, 3, 4, 5, 6, 7, 0xff, 0xfe, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8,
];

/// Whether the byte at `addr` is poisoned, given its shadow byte.
fn poisoned_1(shadow: impl Fn(u64) -> u8, addr: u64) -> bool {
    let s = shadow(addr / GRANULE) as i8;
    s != 0 && (addr & (GRANULE - 1)) as i8 >= s
}

/// Whether KASAN generic reports an access of `size` (1, 2, 4 or 8) at
/// `addr`; `shadow(g)` is the shadow byte of granule `g` (`addr / 8`).
pub fn poisoned(shadow: impl Fn(u64) -> u8 + Copy, addr: u64, size: u64) -> bool {
    if size == 1 {
        return poisoned_1(shadow, addr);
    }
    let last = addr + size - 1;
    // Straddling two granules: the first must be fully accessible.
    if (last & (GRANULE - 1)) < size - 1 {
        return shadow(addr / GRANULE) != 0 || poisoned_1(shadow, last);
    }
    poisoned_1(shadow, last)
}

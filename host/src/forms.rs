// SPDX-License-Identifier: GPL-2.0

//! The access forms the tests emit checks for.

use crate::insn::{Access, BpfReg};

/// Offsets: zero, small, negative, the disp8 edges and the s16 extremes
/// (every displacement class: none, disp8, disp32).
pub const OFFSETS: [i16; 8] = [0, 8, -8, 127, -128, 128, i16::MAX, i16::MIN];

/// Access sizes.
pub const SIZES: [u8; 4] = [1, 2, 4, 8];

/// Every access form: base register (all of [`BpfReg::ALL`]), offset
/// ([`OFFSETS`]), size ([`SIZES`]) and direction.
pub fn accesses() -> impl Iterator<Item = Access> + Clone {
    BpfReg::ALL.into_iter().flat_map(|base| {
        OFFSETS.into_iter().flat_map(move |off| {
            SIZES.into_iter().flat_map(move |size| {
                [false, true].map(|write| Access {
                    base,
                    off,
                    size,
                    write,
                })
            })
        })
    })
}

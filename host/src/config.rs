// SPDX-License-Identifier: GPL-2.0

//! The emitter's [`Config`] as host code and tests build it: the kernel's
//! C code fills the same `#[repr(C)]` struct field by field, the host builds
//! it here, once, so that a new field is added in one place.

use crate::emit::{self, Config, Mode};

impl Config {
    /// A config of `mode` with the given shadow offset, slow path, outline
    /// entry points (`[kind][log2 size]`) and number of checks: without the
    /// verifier's marks (every access checked, none known aligned), without
    /// merging, `r12` free, calls of [`emit::CALL_REL32_LEN`] bytes. Tests
    /// change the rest with struct update syntax.
    pub fn host(
        mode: Mode,
        shadow_offset: u64,
        slow_path: u64,
        outline: [[u64; 4]; 3],
        checks: u32,
    ) -> Self {
        Config {
            shadow_offset,
            slow_path,
            outline,
            stack_only: core::ptr::null(),
            trusted: core::ptr::null(),
            aligned: core::ptr::null(),
            checks,
            nr_ldst: 0,
            call_len: emit::CALL_REL32_LEN,
            mode: mode as u8,
            r12_free: 1,
            insns: core::ptr::null(),
            members: core::ptr::null(),
            len: 0,
        }
    }
}

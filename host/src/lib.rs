// SPDX-License-Identifier: GPL-2.0

//! The kasan-ebpf emitter core, compiled for the host.
//!
//! The modules below are the very files the kernel compiles into
//! arch/x86/net/bpf_jit_kasan.o; only the kernel glue (bpf_jit_kasan.rs)
//! is left out. `exec` runs emitted code in this process.

#[path = "../../arch/x86/net/bpf_jit_kasan/asm.rs"]
pub mod asm;
#[path = "../../arch/x86/net/bpf_jit_kasan/emit.rs"]
pub mod emit;
#[path = "../../arch/x86/net/bpf_jit_kasan/insn.rs"]
pub mod insn;
#[path = "../../arch/x86/net/bpf_jit_kasan/merge.rs"]
pub mod merge;

pub mod config;
pub mod exec;
pub mod forms;
pub mod kasan_model;
pub mod native;

// SPDX-License-Identifier: GPL-2.0

//! Runs JIT images dumped from the guest natively, on this machine's CPU.
//!
//! The guest runs under TCG, where every conditional branch ends a
//! translation block: its run times say little about what a check costs on
//! a real CPU. `make bench` therefore also dumps each bench program's JIT
//! image in each mode (`KASAN_EBPF_BENCH {"type":"image",...}` lines), and
//! [`relocate`] maps one into executable memory here, with every reference
//! to the kernel pointed at a host equivalent:
//!
//! - `call`s of the shared KASAN thunk go to a copy of the tail emitted by
//!   the same emitter ([`emit::emit_tail`]) whose slow path counts entries;
//!   `call`s of `__asan_{load,store}N()` and `kasan_bpf_probe_loadN()` go to
//!   host versions that make KASAN generic's check against a host shadow;
//!   a `jmp` to `__x86_return_thunk` to a plain `ret`;
//! - the shadow offset (`movabs r12`, and the tail's constant that `add
//!   r11, [rip + ...]` reads) becomes the host shadow's;
//! - every other 64-bit kernel address the image loads (`movabs`: a map,
//!   for the bench's array lookups) becomes the address of a host region,
//!   one per distinct kernel address, whose shadow says valid;
//! - `call`s of the hash map's `__htab_map_lookup_elem()` (the verifier
//!   inlines `bpf_map_lookup_elem()` of a hash map into that call) and
//!   `htab_map_update_elem()` (the verifier calls the map's op directly)
//!   go to host stand-ins ([`HTAB_ELEM`]): the bench's packet program.
//!
//! Anything else that leaves the image (a call or jump to another kernel
//! function, a RIP-relative operand outside the image and the tail, a
//! `gs:` operand, an immediate that may be a kernel text address) makes
//! [`relocate`] refuse the image: it never runs one half relocated.

use crate::asm::Asm;
use crate::emit::{self, Config, Mode, Plain};
use crate::exec::Image;
use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, OpKind, Register};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// `KASAN_SHADOW_OFFSET` of x86-64 with 4-level page tables, which the
/// bench kernel has (`movabs r12` loads it; the tail holds it).
pub const KERNEL_SHADOW_OFFSET: u64 = 0xdfff_fc00_0000_0000;

/// Kernel symbols an image may refer to, from the guest's kallsyms.
#[derive(Clone, Debug, Default)]
pub struct KernelSyms {
    /// `bpf_jit_kasan_thunk`: the thunk; the tail starts 8 bytes before.
    pub thunk: u64,
    /// `__asan_load{1,2,4,8}`.
    pub asan_load: [u64; 4],
    /// `__asan_store{1,2,4,8}`.
    pub asan_store: [u64; 4],
    /// `kasan_bpf_probe_load{1,2,4,8}`.
    pub probe_load: [u64; 4],
    /// `__x86_return_thunk` (0 if the kernel has none).
    pub return_thunk: u64,
    /// `__htab_map_lookup_elem` (0: not known, calls to it are refused).
    pub htab_lookup: u64,
    /// `htab_map_update_elem` (0: not known, calls to it are refused).
    pub htab_update: u64,
}

impl KernelSyms {
    /// From `name -> address` pairs; every KASAN symbol must be there.
    pub fn from_map(m: &BTreeMap<String, u64>) -> Result<KernelSyms, String> {
        let get = |n: &str| -> Result<u64, String> {
            m.get(n)
                .copied()
                .filter(|&a| a != 0)
                .ok_or_else(|| format!("kernel symbol {n} missing"))
        };
        let four = |p: &str| -> Result<[u64; 4], String> {
            Ok([
                get(&format!("{p}1"))?,
                get(&format!("{p}2"))?,
                get(&format!("{p}4"))?,
                get(&format!("{p}8"))?,
            ])
        };
        Ok(KernelSyms {
            thunk: get("bpf_jit_kasan_thunk")?,
            asan_load: four("__asan_load")?,
            asan_store: four("__asan_store")?,
            probe_load: four("kasan_bpf_probe_load")?,
            return_thunk: m.get("__x86_return_thunk").copied().unwrap_or(0),
            htab_lookup: m.get("__htab_map_lookup_elem").copied().unwrap_or(0),
            htab_update: m.get("htab_map_update_elem").copied().unwrap_or(0),
        })
    }
}

/// Size of the host memory the kernel data addresses are mapped to; its
/// last [`STACK_LEN`] bytes are the images' stack, which has shadow too
/// (the JIT checks accesses through copies of the frame pointer that the
/// verifier inserted, as the key of an inlined map lookup).
const DATA_LEN: usize = 1 << 22;
/// The images' stack, at the end of the host memory.
const STACK_LEN: u64 = 1 << 18;
/// Each distinct kernel data address gets this much of it.
const REGION_LEN: u64 = 1 << 16;

/// Host memory standing in for kernel data, with its KASAN shadow.
pub struct HostMemory {
    data: Vec<u64>,
    shadow: Vec<u8>,
    /// The host shadow offset: `(addr >> 3) + offset` is `addr`'s shadow.
    pub shadow_offset: u64,
    regions: BTreeMap<u64, u64>,
    /// Regions handed out by [`HostMemory::scratch`].
    scratch: u64,
}

impl HostMemory {
    /// Host memory whose shadow says valid everywhere.
    pub fn new() -> HostMemory {
        let data = vec![0u64; DATA_LEN / 8];
        let shadow = vec![0u8; DATA_LEN / 8 + 2];
        let base = data.as_ptr() as u64;
        let shadow_offset = (shadow.as_ptr() as u64).wrapping_sub(base >> 3);
        HostMemory {
            data,
            shadow,
            shadow_offset,
            regions: BTreeMap::new(),
            scratch: 0,
        }
    }

    /// A region of its own, zeroed, valid in the shadow, that no kernel
    /// address maps to: for a context or a packet the images read.
    pub fn scratch(&mut self) -> Result<u64, String> {
        // Keys below any kernel address: never a `movabs` operand here.
        self.scratch += 1;
        self.region(self.scratch)
    }

    /// The host address that stands in for kernel data address `kaddr`.
    fn region(&mut self, kaddr: u64) -> Result<u64, String> {
        let n = self.regions.len() as u64;
        if let Some(&a) = self.regions.get(&kaddr) {
            return Ok(a);
        }
        if (n + 1) * REGION_LEN > DATA_LEN as u64 - STACK_LEN {
            return Err("too many kernel data addresses".into());
        }
        let a = self.data.as_ptr() as u64 + n * REGION_LEN;
        self.regions.insert(kaddr, a);
        Ok(a)
    }

    /// Sets the shadow byte of the granule at host address `addr`.
    pub fn poison(&mut self, addr: u64, value: u8) {
        let base = self.data.as_ptr() as u64;
        if let Some(s) = addr
            .checked_sub(base)
            .and_then(|o| self.shadow.get_mut((o >> 3) as usize))
        {
            *s = value;
        }
    }

    /// Writes `bytes` at host address `addr`, which must be inside it.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), String> {
        let base = self.data.as_ptr() as u64;
        let off = addr
            .checked_sub(base)
            .filter(|o| o + bytes.len() as u64 <= DATA_LEN as u64)
            .ok_or_else(|| format!("{addr:#x}+{} is outside the host memory", bytes.len()))?;
        // SAFETY: `off..off + len` is inside `data`, which we borrow
        // mutably; any bytes are valid `u64` contents.
        unsafe {
            let dst = (self.data.as_mut_ptr() as *mut u8).add(off as usize);
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        }
        Ok(())
    }

    /// The top of the images' stack (16-byte aligned).
    pub fn stack_top(&self) -> u64 {
        (self.data.as_ptr() as u64 + DATA_LEN as u64 - 64) & !15
    }

    /// The host address kernel data address `kaddr` was mapped to.
    pub fn host_of(&self, kaddr: u64) -> Option<u64> {
        self.regions.get(&kaddr).copied()
    }
}

impl Default for HostMemory {
    fn default() -> Self {
        Self::new()
    }
}

/// The host shadow offset the KASAN stand-ins read (0: none set).
static SHADOW_OFFSET: AtomicU64 = AtomicU64::new(0);
/// Slow-path entries (the thunk's) and KASAN reports of the stand-ins.
pub static SLOW_ENTRIES: AtomicU64 = AtomicU64::new(0);
/// Accesses the stand-ins found poisoned.
pub static REPORTS: AtomicU64 = AtomicU64::new(0);

/// KASAN generic's check of `size` bytes at `addr` against the host
/// shadow (mm/kasan/generic.c check_region_inline() for 1 to 8 bytes):
/// the first granule must allow the access's bytes in it, a straddled
/// second one its bytes too.
#[inline(always)]
fn poisoned(addr: u64, size: u64) -> bool {
    let off = SHADOW_OFFSET.load(Ordering::Relaxed);
    // SAFETY: `relocate` runs images only over `HostMemory`, whose shadow
    // covers every address the bench's images access, plus one granule.
    let shadow = |a: u64| unsafe { *(((a >> 3).wrapping_add(off)) as *const i8) };
    let last = addr + size - 1;
    let bad1 = |a: u64| {
        let s = shadow(a);
        s != 0 && (a & 7) as i8 >= s
    };
    if last >> 3 != addr >> 3 {
        return shadow(addr) != 0 || bad1(last);
    }
    bad1(last)
}

extern "C" fn host_slow(_regs: *const emit::SavedRegs) {
    SLOW_ENTRIES.fetch_add(1, Ordering::Relaxed);
}

macro_rules! stand_ins {
    ($($name:ident $shim:ident $size:literal;)*) => {
        $(
            extern "C" fn $name(addr: u64) {
                if poisoned(addr, $size) {
                    REPORTS.fetch_add(1, Ordering::Relaxed);
                }
            }
            crate::aligned_shim!($shim, $name);
        )*
    };
}

stand_ins! {
    check1 native_check1 1;
    check2 native_check2 2;
    check4 native_check4 4;
    check8 native_check8 8;
}

/// Where the hash map stand-in's one element starts in the map's host
/// region (the program adds the value's offset in the element, below 256).
pub const HTAB_ELEM: u64 = 4096;
/// Calls of the `htab_map_update_elem()` stand-in.
pub static HTAB_UPDATES: AtomicU64 = AtomicU64::new(0);
/// Calls of the `__htab_map_lookup_elem()` stand-in (counted without a
/// locked instruction: the images run on one thread, and a `lock xadd`
/// would add its cost to every mode).
pub static HTAB_LOOKUPS: AtomicU64 = AtomicU64::new(0);

/// Stand-in for `__htab_map_lookup_elem(map, key)` on the bench's flow map
/// (16-byte keys): it hashes the key, as the kernel's lookup does before it
/// walks a bucket, and returns the map's one element, at [`HTAB_ELEM`] in
/// the map's host region: the flow is always found, as in the guest, where
/// every test run after the first finds the flow the first one added. The
/// kernel's lookup also walks the bucket and compares the key, which this
/// does not: the native mixed ratio is, if anything, pessimistic for the
/// checks.
extern "C" fn htab_lookup(map: u64, key: *const u32) -> u64 {
    let mut h = 0x9e37_79b9u32;
    for i in 0..4 {
        // SAFETY: the key is the program's 16-byte key on its stack.
        let w = unsafe { key.add(i).read_unaligned() };
        h = (h ^ w).wrapping_mul(0x85eb_ca6b).rotate_left(13);
    }
    core::hint::black_box(h);
    HTAB_LOOKUPS.store(HTAB_LOOKUPS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    map + HTAB_ELEM
}
crate::aligned_shim!(native_htab_lookup, htab_lookup);

/// Stand-in for `htab_map_update_elem()`: counts the call, returns 0.
extern "C" fn htab_update() -> u64 {
    HTAB_UPDATES.fetch_add(1, Ordering::Relaxed);
    0
}
crate::aligned_shim!(native_htab_update, htab_update);

extern "C" {
    fn native_ret();
}
core::arch::global_asm!(".globl native_ret", "native_ret:", "ret");

/// The host stand-ins for the KASAN entry points, by log2 of the size.
fn stand_in(log2: usize) -> u64 {
    [
        native_check1 as *const () as u64,
        native_check2 as *const () as u64,
        native_check4 as *const () as u64,
        native_check8 as *const () as u64,
    ][log2]
}

extern "C" {
    /// Calls `code(ctx, NULL)` with `rsp` at `stack_top`.
    fn native_call_on_stack(code: u64, ctx: *mut u8, stack_top: u64) -> u64;
}
core::arch::global_asm!(
    ".globl native_call_on_stack",
    "native_call_on_stack:",
    "push rbp",
    "mov rbp, rsp",
    "mov rsp, rdx",
    "mov rax, rdi",
    "mov rdi, rsi",
    "xor esi, esi",
    "call rax",
    "mov rsp, rbp",
    "pop rbp",
    "ret",
);

/// A relocated image, ready to run.
pub struct Relocated {
    image: Image,
    _tail: Image,
    stack_top: u64,
    /// Kernel data addresses and the host addresses they became.
    pub data: Vec<(u64, u64)>,
    /// References rewritten, by kind, for the report.
    pub relocs: BTreeMap<&'static str, usize>,
}

impl Relocated {
    /// Runs the image once with `ctx` as its first argument, on the stack
    /// at the end of the host memory it was relocated over; its return
    /// value.
    ///
    /// # Safety
    ///
    /// The image must only access `ctx`, its stack and the host memory it
    /// was relocated over, which must still exist and not be in use by
    /// another running image.
    pub unsafe fn run(&self, ctx: *mut u8) -> u64 {
        // SAFETY: a BPF image follows the C calling convention
        // (`bpf_func(ctx, insn)`); the stack is the host memory's, and the
        // caller vouches for the rest.
        unsafe { native_call_on_stack(self.image.addr(), ctx, self.stack_top) }
    }
}

/// Whether `v` may be a kernel address (direct map, vmalloc, text): the
/// upper half, but not a small negative number.
fn kernel_address(v: u64) -> bool {
    (0xffff_8000_0000_0000..0xffff_ffff_ff00_0000).contains(&v)
}

/// Relocates `code`, the JIT image of a single-function program that runs
/// at `ip` in the guest, over `mem`. Refuses, with the reason, anything it
/// cannot relocate completely.
pub fn relocate(
    code: &[u8],
    ip: u64,
    syms: &KernelSyms,
    mem: &mut HostMemory,
) -> Result<Relocated, String> {
    SHADOW_OFFSET.store(mem.shadow_offset, Ordering::Relaxed);
    // The tail, as the kernel emits it at boot, with the host's shadow
    // offset and a counting slow path.
    let mut tail = Image::new(4096);
    let cfg = Config::host(
        Mode::Inline,
        mem.shadow_offset,
        host_slow as *const () as u64,
        [[0; 4]; 3],
        0,
    );
    let tail_addr = tail.addr();
    let mut asm = Asm::new(tail.bytes(), tail_addr);
    emit::emit_tail(&mut asm, &mut Plain, &cfg).map_err(|e| format!("tail: {e:?}"))?;
    let ktail = syms.thunk.wrapping_sub(emit::THUNK_OFFSET);

    let mut image = Image::new(code.len().max(1));
    let host = image.addr();
    let mut out = code.to_vec();
    let mut relocs = BTreeMap::new();
    let mut data = Vec::new();
    let end = ip + code.len() as u64;
    let inside = |a: u64| (ip..end).contains(&a);
    let mut dec = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let mut insn = Instruction::default();
    while dec.can_decode() {
        dec.decode_out(&mut insn);
        let at = (insn.ip() - ip) as usize;
        let what = |m: &str| {
            let mut text = String::new();
            IntelFormatter::new().format(&insn, &mut text);
            format!("{m} at +{at:#x} ({text})")
        };
        if insn.is_invalid() {
            return Err(what("undecodable bytes"));
        }
        let offs = dec.get_constant_offsets(&insn);
        let new_ip = host + at as u64;
        let next = new_ip + insn.len() as u64;
        let rel32 = |out: &mut Vec<u8>, field: usize, target: u64| -> Result<(), String> {
            let rel = i32::try_from(target.wrapping_sub(next) as i64)
                .map_err(|_| format!("host target {target:#x} out of rel32 reach"))?;
            out[at + field..at + field + 4].copy_from_slice(&rel.to_le_bytes());
            Ok(())
        };
        if insn.segment_prefix() == Register::GS || insn.memory_segment() == Register::GS {
            return Err(what("per-CPU (gs:) operand"));
        }
        let call = insn.is_call_near();
        if call || insn.is_jmp_short_or_near() {
            let t = insn.near_branch_target();
            if inside(t) {
                // Relative within the image: unchanged by the move.
            } else if insn.len() != 5 || !matches!(code[at], 0xe8 | 0xe9) {
                return Err(what(
                    "branch out of the image that is not a rel32 call or jmp",
                ));
            } else {
                let kind = |k: &[u64; 4]| k.iter().position(|&a| a == t);
                let host_target = if call && t == syms.thunk {
                    *relocs.entry("thunk call").or_insert(0) += 1;
                    tail_addr + emit::THUNK_OFFSET
                } else if let Some(l) = call.then(|| kind(&syms.asan_load)).flatten() {
                    *relocs.entry("__asan_load call").or_insert(0) += 1;
                    stand_in(l)
                } else if let Some(l) = call.then(|| kind(&syms.asan_store)).flatten() {
                    *relocs.entry("__asan_store call").or_insert(0) += 1;
                    stand_in(l)
                } else if let Some(l) = call.then(|| kind(&syms.probe_load)).flatten() {
                    *relocs.entry("probe_load call").or_insert(0) += 1;
                    stand_in(l)
                } else if call && syms.htab_lookup != 0 && t == syms.htab_lookup {
                    *relocs.entry("hash map lookup call").or_insert(0) += 1;
                    native_htab_lookup as *const () as u64
                } else if call && syms.htab_update != 0 && t == syms.htab_update {
                    *relocs.entry("hash map update call").or_insert(0) += 1;
                    native_htab_update as *const () as u64
                } else if !call && syms.return_thunk != 0 && t == syms.return_thunk {
                    *relocs.entry("return thunk").or_insert(0) += 1;
                    native_ret as *const () as u64
                } else {
                    return Err(what(&format!(
                        "{} to kernel address {t:#x}, no host equivalent",
                        if call { "call" } else { "jump" }
                    )));
                };
                rel32(&mut out, 1, host_target)?;
            }
        } else if insn.is_jcc_short_or_near() || insn.is_loop() || insn.is_jcx_short() {
            if !inside(insn.near_branch_target()) {
                return Err(what("branch out of the image"));
            }
        } else if insn.is_call_near_indirect()
            || insn.is_jmp_near_indirect()
            || insn.is_call_far()
            || insn.is_jmp_far()
            || insn.is_call_far_indirect()
            || insn.is_jmp_far_indirect()
        {
            return Err(what("indirect or far branch (tail call, retpoline)"));
        }
        if insn.is_ip_rel_memory_operand() {
            let t = insn.ip_rel_memory_address();
            if t == ktail {
                *relocs.entry("tail shadow offset").or_insert(0) += 1;
                let field = offs.displacement_offset();
                let rel = i32::try_from(tail_addr.wrapping_sub(next) as i64)
                    .map_err(|_| what("host tail out of reach"))?;
                out[at + field..at + field + 4].copy_from_slice(&rel.to_le_bytes());
            } else if !inside(t) {
                return Err(what(&format!("RIP-relative operand at {t:#x}")));
            }
        } else if insn.memory_base() == Register::None
            && (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory)
            && insn.memory_displacement64() != 0
        {
            return Err(what("absolute memory operand"));
        }
        for i in 0..insn.op_count() {
            match insn.op_kind(i) {
                OpKind::Immediate64 => {
                    let v = insn.immediate64();
                    let new = if v == KERNEL_SHADOW_OFFSET {
                        *relocs.entry("shadow offset").or_insert(0) += 1;
                        mem.shadow_offset
                    } else if kernel_address(v) {
                        *relocs.entry("kernel data address").or_insert(0) += 1;
                        let h = mem.region(v)?;
                        data.push((v, h));
                        h
                    } else {
                        continue;
                    };
                    let f = at + offs.immediate_offset();
                    out[f..f + 8].copy_from_slice(&new.to_le_bytes());
                }
                OpKind::Immediate32to64 => {
                    let v = insn.immediate32to64() as u64;
                    if (0xffff_ffff_8000_0000..0xffff_ffff_ff00_0000).contains(&v) {
                        return Err(what(&format!("immediate {v:#x} may be kernel text")));
                    }
                }
                _ => {}
            }
        }
    }
    image.bytes()[..out.len()].copy_from_slice(&out);
    data.sort_unstable();
    data.dedup();
    Ok(Relocated {
        image,
        _tail: tail,
        stack_top: mem.stack_top(),
        data,
        relocs,
    })
}

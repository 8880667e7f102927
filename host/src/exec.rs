// SPDX-License-Identifier: GPL-2.0

//! Runs emitted code in this process.
//!
//! [`Image`] is an executable mapping. [`run`] loads all general-purpose
//! registers but `rsp` from a [`Regs`], calls the code, and stores them
//! back. The slow path and outline targets are assembly shims that align
//! the stack (the kernel only keeps 8-byte alignment) and call recorders
//! that keep what they were given, per thread. [`Fixup`] emulates the
//! kernel's exception table for the checks' shadow reads.

use crate::emit::SavedRegs;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};

/// A register file indexed by x86 register number (`rsp`'s slot unused).
pub type Regs = [u64; 16];

/// A call the code made to the slow path or an outline entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// The thunk called the slow path with these registers.
    Slow(SavedRegs),
    /// An outline entry point was called.
    Outline {
        /// Access address (`rdi`).
        addr: u64,
        /// Return address of the call (KASAN's `_RET_IP_`).
        ip: u64,
        /// Access size.
        size: u8,
        /// Whether it writes.
        write: bool,
        /// `rsp` at the call, to check that the registers pushed before
        /// it are popped after.
        depth: u64,
    },
}

thread_local! {
    static CALLS: RefCell<Vec<Call>> = const { RefCell::new(Vec::new()) };
}

/// Takes the calls recorded on this thread since the last time.
pub fn take_calls() -> Vec<Call> {
    CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

extern "C" fn record_slow(regs: *const SavedRegs) {
    // SAFETY: the thunk passes a pointer to the registers it saved.
    let regs = unsafe { *regs };
    CALLS.with(|c| c.borrow_mut().push(Call::Slow(regs)));
}

/// Defines `extern "C" fn $shim()`, an assembly entry point for code that
/// calls with the stack 8-byte aligned only (as the kernel and its JIT do):
/// it runs the `$pre` instructions with `rbp` at its frame, aligns the
/// stack to 16 bytes for Rust and calls `$f`, whose arguments are what the
/// caller (and `$pre`) left in the argument registers.
#[macro_export]
macro_rules! aligned_shim {
    ($shim:ident, $f:path $(, $pre:literal)*) => {
        extern "C" {
            fn $shim();
        }
        core::arch::global_asm!(
            concat!(".globl ", stringify!($shim)),
            concat!(stringify!($shim), ":"),
            "push rbp",
            "mov rbp, rsp",
            $($pre,)*
            "and rsp, -16",
            "call {f}",
            "leave",
            "ret",
            f = sym $f,
        );
    };
}

macro_rules! outline_recorders {
    ($($name:ident $shim:ident $size:literal $write:literal;)*) => {
        $(
            extern "C" fn $name(addr: u64, ip: u64, depth: u64) {
                CALLS.with(|c| {
                    c.borrow_mut().push(Call::Outline {
                        addr,
                        ip,
                        size: $size,
                        write: $write,
                        depth,
                    })
                });
            }
            // rsi: the return address (KASAN's _RET_IP_); rdx: rsp at the
            // call.
            crate::aligned_shim!($shim, $name, "mov rsi, [rbp + 8]", "lea rdx, [rbp + 16]");
        )*
        /// Addresses of the outline shims, `[kind][log2 size]`; the
        /// fault-tolerant loads (kind 2) record as loads.
        pub fn outline_entries() -> [[u64; 4]; 3] {
            let e = [$($shim as *const () as u64),*];
            [
                [e[0], e[1], e[2], e[3]],
                [e[4], e[5], e[6], e[7]],
                [e[0], e[1], e[2], e[3]],
            ]
        }
    };
}

outline_recorders! {
    rec_load1 kasan_host_load1 1 false;
    rec_load2 kasan_host_load2 2 false;
    rec_load4 kasan_host_load4 4 false;
    rec_load8 kasan_host_load8 8 false;
    rec_store1 kasan_host_store1 1 true;
    rec_store2 kasan_host_store2 2 true;
    rec_store4 kasan_host_store4 4 true;
    rec_store8 kasan_host_store8 8 true;
}

extern "C" {
    fn kasan_host_run(regs: *mut Regs, code: u64);
}

crate::aligned_shim!(kasan_host_slow, record_slow);

// kasan_host_run(regs: rdi, code: rsi): load r[0..16] but rsp, call code,
// store them back. Host callee-saved registers are kept on the stack.
core::arch::global_asm!(
    ".globl kasan_host_run",
    "kasan_host_run:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "push rdi",
    "sub rsp, 8",
    "mov [rsp], rsi",
    "mov rax, [rdi + 0]",
    "mov rcx, [rdi + 8]",
    "mov rdx, [rdi + 16]",
    "mov rbx, [rdi + 24]",
    "mov rbp, [rdi + 40]",
    "mov rsi, [rdi + 48]",
    "mov r8,  [rdi + 64]",
    "mov r9,  [rdi + 72]",
    "mov r10, [rdi + 80]",
    "mov r11, [rdi + 88]",
    "mov r12, [rdi + 96]",
    "mov r13, [rdi + 104]",
    "mov r14, [rdi + 112]",
    "mov r15, [rdi + 120]",
    "mov rdi, [rdi + 56]",
    "call [rsp]",
    "add rsp, 8",
    "xchg rdi, [rsp]",
    "mov [rdi + 0], rax",
    "mov [rdi + 8], rcx",
    "mov [rdi + 16], rdx",
    "mov [rdi + 24], rbx",
    "mov [rdi + 40], rbp",
    "mov [rdi + 48], rsi",
    "mov [rdi + 64], r8",
    "mov [rdi + 72], r9",
    "mov [rdi + 80], r10",
    "mov [rdi + 88], r11",
    "mov [rdi + 96], r12",
    "mov [rdi + 104], r13",
    "mov [rdi + 112], r14",
    "mov [rdi + 120], r15",
    "pop rax",
    "mov [rdi + 56], rax",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
);

/// Address of the slow-path shim to put in `Config::slow_path`.
pub fn slow_path_entry() -> u64 {
    kasan_host_slow as *const () as u64
}

/// Calls `code` with the registers in `regs`, which get the values the
/// code left. `rsp` is not loaded or stored.
///
/// # Safety
///
/// `code` must be the address of code that returns, preserves `rsp` and
/// touches no memory but its own stack and what the test mapped for it.
pub unsafe fn run(regs: &mut Regs, code: u64) {
    // SAFETY: the shim follows the C ABI; the caller vouches for `code`.
    unsafe { kasan_host_run(regs, code) }
}

/// An executable, writable anonymous mapping.
pub struct Image {
    ptr: *mut u8,
    len: usize,
}

impl Image {
    /// Maps `len` bytes, filled with `int3`, within rel32 reach of this
    /// binary's code (as BPF images are of kernel text).
    pub fn new(len: usize) -> Image {
        let near = slow_path_entry() & !0xffff;
        let ptr = (1..4096u64)
            .flat_map(|i| [near.wrapping_sub(i << 20), near.wrapping_add(i << 20)])
            .find_map(|hint| {
                // SAFETY: MAP_FIXED_NOREPLACE never replaces a mapping.
                let p = unsafe {
                    libc::mmap(
                        hint as *mut libc::c_void,
                        len,
                        libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                        -1,
                        0,
                    )
                };
                (p != libc::MAP_FAILED).then_some(p)
            })
            .expect("no free address within rel32 reach for an executable image");
        let ptr = ptr.cast::<u8>();
        // SAFETY: the mapping is `len` writable bytes.
        unsafe { std::ptr::write_bytes(ptr, 0xcc, len) };
        Image { ptr, len }
    }

    /// Address of the first byte.
    pub fn addr(&self) -> u64 {
        self.ptr as u64
    }

    /// The mapping as a byte slice.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes that only this value uses.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `new` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// One entry of the emulated exception table (0 in `ip`: free).
struct ExSlot {
    ip: AtomicU64,
    len: AtomicU64,
    hits: AtomicU64,
}

/// Entries for all threads: the fault handler cannot take locks.
static EXTABLE: [ExSlot; 64] = [const {
    ExSlot {
        ip: AtomicU64::new(0),
        len: AtomicU64::new(0),
        hits: AtomicU64::new(0),
    }
}; 64];

/// The signals a bad memory access raises.
const FAULTS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// Their actions before ours, for the faults that are not ours.
static PREV: OnceLock<[libc::sigaction; 2]> = OnceLock::new();
static INSTALL: Once = Once::new();

/// The fault handler: what `ex_handler_bpf()` does for an `EX_TYPE_BPF`
/// entry with `DONT_CLEAR` (`regs->ip += fixup & 0xff`), found by the exact
/// faulting address as `search_bpf_extables()` finds it.
extern "C" fn on_fault(sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO, `ctx` is the interrupted thread's context.
    let gregs = unsafe { &mut (*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
    let rip = gregs[libc::REG_RIP as usize] as u64;
    if let Some(slot) = EXTABLE
        .iter()
        .find(|s| rip != 0 && s.ip.load(Ordering::Acquire) == rip)
    {
        gregs[libc::REG_RIP as usize] += slot.len.load(Ordering::Relaxed) as i64;
        slot.hits.fetch_add(1, Ordering::Relaxed);
        return;
    }
    // Not a fault the table covers: put the old action back and return,
    // so that the fault happens again and is handled as without us.
    let i = FAULTS.iter().position(|&s| s == sig).unwrap_or(0);
    let prev = PREV.get().map_or(core::ptr::null(), |p| &p[i]);
    // SAFETY: `prev` is null or a valid action; sigaction is
    // async-signal-safe.
    unsafe {
        if prev.is_null() {
            libc::signal(sig, libc::SIG_DFL);
        } else {
            libc::sigaction(sig, prev, core::ptr::null_mut());
        }
    }
}

fn install_fault_handler() {
    PREV.get_or_init(|| {
        FAULTS.map(|sig| {
            // SAFETY: sigaction only writes the current action to `old`,
            // for which zeroes are a valid value.
            unsafe {
                let mut old: libc::sigaction = core::mem::zeroed();
                assert_eq!(libc::sigaction(sig, core::ptr::null(), &mut old), 0);
                old
            }
        })
    });
    INSTALL.call_once(|| {
        for sig in FAULTS {
            // SAFETY: the handler has the signature SA_SIGINFO calls for.
            unsafe {
                let mut act: libc::sigaction = core::mem::zeroed();
                act.sa_sigaction = on_fault as *const () as usize;
                act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut act.sa_mask);
                assert_eq!(libc::sigaction(sig, &act, core::ptr::null_mut()), 0);
            }
        }
    });
}

/// An entry of the emulated exception table, for as long as it lives: a
/// fault (SIGSEGV or SIGBUS) at `ip`, on any thread, resumes at `ip + len`.
pub struct Fixup {
    slot: &'static ExSlot,
}

impl Fixup {
    /// Adds the entry that the JIT adds for a check at `ip` whose
    /// [`crate::emit::Site`] says a fault at `fault_off` skips `fault_len`
    /// bytes.
    pub fn new(ip: u64, len: u32) -> Fixup {
        assert_ne!(ip, 0);
        install_fault_handler();
        let slot = EXTABLE
            .iter()
            .find(|s| {
                s.ip.compare_exchange(0, u64::MAX, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            })
            .expect("emulated exception table full");
        slot.len.store(len.into(), Ordering::Relaxed);
        slot.hits.store(0, Ordering::Relaxed);
        slot.ip.store(ip, Ordering::Release);
        Fixup { slot }
    }

    /// How many faults the entry fixed up.
    pub fn hits(&self) -> u64 {
        self.slot.hits.load(Ordering::Relaxed)
    }
}

impl Drop for Fixup {
    fn drop(&mut self) {
        self.slot.ip.store(0, Ordering::Release);
    }
}

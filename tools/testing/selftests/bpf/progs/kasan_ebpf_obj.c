// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for the kasan_ebpf_obj test (prog_tests/kasan_ebpf_obj.c): loads
 * through kernel objects that bpf_kasan_testmod's kfuncs hand out, with a
 * reference, an RCU-protected pointer or a walked (untrusted) pointer.
 *
 * Each program stores the object's address in 'addr' and what it read in
 * 'out'; the test knows which load of it must be reported, if any:
 *
 *  - obj_valid, obj_get_put, obj_rcu_valid: correct kfuncs, no report;
 *  - obj_freed: bpf_kasan_obj_acquire_freed() dropped the count twice:
 *    reading d[1] is a use-after-free;
 *  - obj_early_free: bpf_kasan_obj_release_buggy() freed the object while
 *    the program holds a second reference: reading d[2] through it is one;
 *  - obj_rcu_freed: bpf_kasan_obj_rcu_freed() freed the object without a
 *    grace period: reading d[3] in the RCU read-side section is one;
 *  - obj_walk: o->next is a freed object, reached through an untrusted
 *    pointer: the verifier makes that load fault-tolerant, BPF's contract
 *    allows it to read freed memory, and it must not be reported;
 *  - obj_mixed: one load reached with the trusted o on one path and the
 *    untrusted o->next on the other ('pick' chooses at run time; 0: the
 *    freed o->next): trusted on one path only, so fault-tolerant and not
 *    checked either. In asm, so that the compiler keeps the one load.
 *
 * obj_kptr_valid and obj_kptr_freed keep their reference in a map's kptr
 * field and take it back with bpf_kptr_xchg(): the verifier types that
 * result as a bare, referenced BTF pointer, trusted by its reference, and
 * makes the load through it fault-tolerant; the JIT checks it because the
 * verifier marked it trusted on every path. Through the freed object, the
 * load of d[1] is a use-after-free.
 *
 * Tracing programs get their arguments from the kernel: tp_btf programs'
 * are trusted (obj_tp_btf reads task->pid with a checked load), fentry
 * programs' are not (obj_fentry reads arg->a with a fault-tolerant load,
 * unchecked: such a program may see an object its caller freed).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_misc.h"

/* bpf_kasan_testmod.h's struct, relocated against the module's BTF. */
struct bpf_kasan_obj {
	__u32 tag;
	__u64 d[4];
	struct bpf_kasan_obj *next;
} __attribute__((preserve_access_index));

extern struct bpf_kasan_obj *bpf_kasan_obj_acquire(__u32 tag) __ksym;
extern struct bpf_kasan_obj *bpf_kasan_obj_acquire_freed(__u32 tag) __ksym;
extern struct bpf_kasan_obj *bpf_kasan_obj_get(struct bpf_kasan_obj *obj) __ksym;
extern void bpf_kasan_obj_release(struct bpf_kasan_obj *obj) __ksym;
extern void bpf_kasan_obj_release_buggy(struct bpf_kasan_obj *obj) __ksym;
extern struct bpf_kasan_obj *bpf_kasan_obj_rcu(void) __ksym;
extern struct bpf_kasan_obj *bpf_kasan_obj_rcu_freed(__u32 tag) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

__u64 addr;
__u64 out;
__u32 pick;
__u32 tp_ppid, tp_pid;

struct kptr_val {
	struct bpf_kasan_obj __kptr *p;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct kptr_val);
} kptrs SEC(".maps");

/* Passes @o through the map's kptr field and reads d[1] through it. */
static __always_inline int kptr_read(struct bpf_kasan_obj *o)
{
	struct kptr_val *v;
	int key = 0;

	v = bpf_map_lookup_elem(&kptrs, &key);
	if (!v) {
		bpf_kasan_obj_release(o);
		return 2;
	}
	o = bpf_kptr_xchg(&v->p, o);
	if (o)
		bpf_kasan_obj_release(o);
	o = bpf_kptr_xchg(&v->p, NULL);
	if (!o)
		return 3;
	addr = (__u64)o;
	out = o->d[1];
	bpf_kasan_obj_release(o);
	return 0;
}

SEC("syscall")
int obj_kptr_valid(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire(90);

	return o ? kptr_read(o) : 1;
}

SEC("syscall")
int obj_kptr_freed(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire_freed(100);

	return o ? kptr_read(o) : 1;
}
__u64 fentry_val;

SEC("syscall")
int obj_valid(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire(10);

	if (!o)
		return 1;
	addr = (__u64)o;
	out = o->d[1] + o->d[3];
	bpf_kasan_obj_release(o);
	return 0;
}

SEC("syscall")
int obj_freed(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire_freed(20);

	if (!o)
		return 1;
	addr = (__u64)o;
	out = o->d[1];
	bpf_kasan_obj_release(o);
	return 0;
}

SEC("syscall")
int obj_get_put(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire(30), *o2;

	if (!o)
		return 1;
	o2 = bpf_kasan_obj_get(o);
	bpf_kasan_obj_release(o);
	if (!o2)
		return 2;
	addr = (__u64)o2;
	out = o2->d[2];
	bpf_kasan_obj_release(o2);
	return 0;
}

SEC("syscall")
int obj_early_free(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire(50), *o2;

	if (!o)
		return 1;
	o2 = bpf_kasan_obj_get(o);
	bpf_kasan_obj_release_buggy(o);
	if (!o2)
		return 2;
	addr = (__u64)o2;
	out = o2->d[2];
	bpf_kasan_obj_release(o2);
	return 0;
}

SEC("syscall")
int obj_rcu_valid(void *ctx)
{
	struct bpf_kasan_obj *o;

	bpf_rcu_read_lock();
	o = bpf_kasan_obj_rcu();
	addr = (__u64)o;
	out = o->d[0];
	bpf_rcu_read_unlock();
	return 0;
}

SEC("syscall")
int obj_rcu_freed(void *ctx)
{
	struct bpf_kasan_obj *o;
	int ret = 1;

	bpf_rcu_read_lock();
	o = bpf_kasan_obj_rcu_freed(60);
	if (o) {
		addr = (__u64)o;
		out = o->d[3];
		ret = 0;
	}
	bpf_rcu_read_unlock();
	return ret;
}

SEC("syscall")
int obj_walk(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire(70), *n;

	if (!o)
		return 1;
	n = o->next;
	addr = (__u64)n;
	out = n->d[0];
	bpf_kasan_obj_release(o);
	return 0;
}

/* Offsets of ->next and ->d[0]: bpf_kasan_testmod.h asserts them. */
#define OBJ_NEXT	40
#define OBJ_D0		8

SEC("syscall")
int obj_mixed(void *ctx)
{
	struct bpf_kasan_obj *o = bpf_kasan_obj_acquire(80);
	__u64 p, v;

	if (!o)
		return 1;
	asm volatile (
	"%[p] = %[o];"
	"if %[pick] != 0 goto 1f;"
	"%[p] = *(u64 *)(%[p] + %[next]);"
	"1:"
	"%[v] = *(u64 *)(%[p] + %[d0]);"
	: [p] "=&r"(p), [v] "=&r"(v)
	: [o] "r"(o), [pick] "r"(pick), [next] "i"(OBJ_NEXT), [d0] "i"(OBJ_D0)
	);
	addr = p;
	out = v;
	bpf_kasan_obj_release(o);
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(obj_tp_btf, struct task_struct *task, __u64 clone_flags)
{
	if (bpf_get_current_pid_tgid() >> 32 == tp_ppid)
		tp_pid = task->pid;
	return 0;
}

SEC("fentry/bpf_fentry_test7")
int BPF_PROG(obj_fentry, struct bpf_fentry_test_t *arg)
{
	fentry_val = (__u64)arg->a;
	return 0;
}

char _license[] SEC("license") = "GPL";

package main

/*
#include "kernel.h"
*/
import "C"

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vecshard/vecshard/pgtree"
	"github.com/vecshard/vecshard/router"
)

// kernel is the Go side of the C kernel (kernel.c): it hands the kernel a
// program for a tree whose plan is a router.BigintKernel, once per tree and
// snapshot, and retires every program when the config changes.
type kernel struct {
	off atomic.Bool   // VECSHARD_KERNEL=0: every call goes to Go
	gen atomic.Uint64 // the generation programs are written for
	// genMu makes a bump of gen and the store of C's copy one step, so that
	// C's generation only ever moves forward and a disable stays.
	genMu    sync.Mutex
	disabled bool       // under genMu
	mu       sync.Mutex // serialises installs
	// Reused under mu.
	words  []pgtree.ProofWord
	narrow []pgtree.ProofNarrow
	cw     []C.vs_kernel_word
	cn     []C.vs_kernel_narrow
}

// retire makes every program written so far unusable. Called after the
// router changes (a new snapshot, a stop): a route that loaded the old
// generation also loaded the old snapshot or a newer one, so a program
// tagged with the current generation never carries a plan older than it.
func (k *kernel) retire() {
	k.genMu.Lock()
	defer k.genMu.Unlock()
	g := k.gen.Add(1)
	if !k.disabled {
		C.vs_kernel_set_gen(C.uint64_t(g))
	}
}

// disable stops the kernel for good (trees that are not PostgreSQL 18's).
func (k *kernel) disable() {
	k.genMu.Lock()
	defer k.genMu.Unlock()
	k.disabled = true
	k.gen.Add(1)
	C.vs_kernel_set_gen(0)
}

// offer gives the kernel the tree at stmts, proven unchanged by memo and
// routed under snap with plan, when the plan qualifies at the host's
// shard count, once per tree, snapshot and generation. gen is what k.gen
// held before snap was loaded.
func (k *kernel) offer(memo *pgtree.Memo[treePlan], tp *treePlan, gen uint64, snap *router.Snapshot, plan *router.Plan, stmts unsafe.Pointer, shards uint64) {
	if old := tp.offered.Load(); old == gen || !tp.offered.CompareAndSwap(old, gen) || shards > math.MaxInt32 || k.off.Load() {
		return
	}
	bk, ok := snap.BigintKernel(plan, int(shards))
	if !ok {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen.Load() {
		// Retired while this route ran: a program tagged gen would be dead,
		// and would only take the slot of a live one.
		return
	}
	k.words, k.narrow, ok = memo.AppendProof(stmts, k.words[:0], k.narrow[:0])
	if ok {
		k.install(stmts, gen, shards, bk, k.words, k.narrow)
	}
}

// install writes a program into the kernel's slot of root; false when it
// does not fit (kernel.h's limits) or the slots cannot be allocated.
// k.mu must be held.
func (k *kernel) install(root unsafe.Pointer, gen, shards uint64, bk router.BigintKernel, words []pgtree.ProofWord, narrow []pgtree.ProofNarrow) bool {
	k.cw, k.cn = k.cw[:0], k.cn[:0]
	for _, w := range words {
		k.cw = append(k.cw, C.vs_kernel_word{addr: C.uint64_t(uintptr(w.Addr)), want: C.uint64_t(w.Want), mask: C.uint64_t(w.Mask)})
	}
	for _, n := range narrow {
		k.cn = append(k.cn, C.vs_kernel_narrow{addr: C.uint64_t(uintptr(n.Addr)), want: C.uint64_t(n.Want)})
	}
	var cw *C.vs_kernel_word
	var cn *C.vs_kernel_narrow
	if len(k.cw) > 0 {
		cw = &k.cw[0]
	}
	if len(k.cn) > 0 {
		cn = &k.cn[0]
	}
	return bool(C.vs_kernel_install(C.uint64_t(uintptr(root)), C.uint64_t(gen), C.uint64_t(shards), C.uint32_t(bk.Param), C.bool(bk.Write),
		cw, C.uint32_t(len(k.cw)), cn, C.uint32_t(len(k.cn))))
}

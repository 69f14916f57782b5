package router

import "github.com/vecshard/vecshard/idkey"

// BigintKernel describes a plan whose decision, under one snapshot and one
// host shard count, follows from a single binary bigint parameter by
// arithmetic alone: parameter Param, when it is bound, not NULL, in the
// binary format and 2, 4 or 8 bytes long (int2, int4 or int8 send format,
// big-endian two's complement, sign-extended to v), decides
//
//	Decision{Kind: Shard, Shard: idkey.Shard(idkey.BigintKey(v), shards), Write: Write}
//
// and any other binding leaves the plan to RoutePlan. It lets a host-side
// kernel (the vtable library's C fast path) answer the commonest prepared
// statement, WHERE id = $1, without entering Go; which plans qualify is
// decided here, next to the rules it shortcuts.
type BigintKernel struct {
	Param int  // 0-based index of the key parameter
	Write bool // the statement writes
}

// BigintKernel reports whether p's decisions for shards host shards are
// those of a BigintKernel, and which one. p must come from s.TreePlan or
// s's text front end.
func (s *Snapshot) BigintKernel(p *Plan, shards int) (BigintKernel, bool) {
	f := (*plan)(p).fast
	if f == nil || f.order || f.limitParam != 0 || f.t.Key != KeyID || f.t.IDType != idkey.Bigint || shards < 1 {
		return BigintKernel{}, false
	}
	// The kernel reads the bytes as sent, so it takes only a value the
	// router reads in the binary format (not one cast to text, nor one the
	// router refuses).
	if readID(f.t, f.v, true) != idBinary {
		return BigintKernel{}, false
	}
	if c := (call{s: s, shards: shards}); !c.shardsMatch(f.t) {
		return BigintKernel{}, false
	}
	return BigintKernel{Param: f.v.param, Write: f.write}, true
}

//go:build !amd64 || purego

package pgtree

import "unsafe"

// sameChecks reports whether every one of the n checks at cs holds,
// reading their words in order and stopping at the first that does not.
func sameChecks(cs *check, n int) bool {
	for _, c := range unsafe.Slice(cs, n) {
		if (*(*uint64)(c.p)^c.want)&c.mask != 0 {
			return false
		}
	}
	return true
}

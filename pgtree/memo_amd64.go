//go:build amd64 && !purego

package pgtree

// sameChecks reports whether every one of the n checks at cs holds,
// reading their words in order and stopping at the first that does not.
// Implemented in memo_amd64.s; memo_other.go is the same loop in Go.
//
//go:noescape
func sameChecks(cs *check, n int) bool

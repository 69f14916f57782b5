//go:build race

package main

// raceEnabled: the race detector allocates, so allocation counts are meaningless.
const raceEnabled = true

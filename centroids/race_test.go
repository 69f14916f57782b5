//go:build race

package centroids

// raceEnabled: the race detector makes sync.Pool drop a share of what is
// put back, so pooled scratch space is reallocated; zero-allocation
// assertions run without it (make alloc).
const raceEnabled = true

//go:build !race

package centroids

const raceEnabled = false

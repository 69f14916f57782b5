package main

import (
	"fmt"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/internal/atomicfile"
)

// saveCentroids writes f's object form (centroids.File.Marshal) to path
// through a temporary file renamed over it, so a router reloading path
// sees the old file or the complete new one, never a part.
func saveCentroids(path string, f *centroids.File) error {
	return saveMarshalled(path, f.Marshal)
}

// saveBare writes f as PgDog's bare array (centroids.File.MarshalBare),
// atomically like saveCentroids.
func saveBare(path string, f *centroids.File) error {
	return saveMarshalled(path, f.MarshalBare)
}

func saveMarshalled(path string, marshal func() ([]byte, error)) error {
	b, err := marshal()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b)
}

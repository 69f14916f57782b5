// Command train-centroids trains the centroid file that vecshard routes
// pgvector queries by, and evaluates a centroid file as a router.
//
//	train-centroids --input items.txt --k 64 --shards 8 --out centroids.json
//	train-centroids --dsn postgres://... --query "SELECT embedding::text FROM items TABLESAMPLE SYSTEM (1)" --k 16 --out c.json
//	train-centroids eval --centroids centroids.json --input train.npy --queries test.npy
//
// Inputs are pgvector text (.txt, .vec), CSV/TSV (--column), .fvecs, .npy,
// IDX (as Fashion-MNIST ships it, optionally .gz) or a PostgreSQL query
// whose first column is a vector as text or a float array. With --sample N
// only a uniform sample of N rows is kept in memory.
//
// The command tree is built by newRootCmd, one file per subcommand
// (train.go, eval.go), so tests run it in-process and a new subcommand is
// one more file and one AddCommand.
package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vecshard/vecshard/cmd/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program with its output streams; it returns the exit
// status (0 ok, 1 a problem, 2 a usage error).
func run(args []string, stdout, stderr io.Writer) int {
	return cli.Run(newRootCmd(stdout, stderr), args)
}

// newRootCmd builds the command tree: training is the root command itself
// (train-centroids --input ... --k ...), evaluation a subcommand.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := newTrainCmd(stderr)
	root.AddCommand(newEvalCmd(stderr))
	root.AddCommand(newReshardCmd(stderr))
	cli.Setup(root, stdout, stderr)
	return root
}

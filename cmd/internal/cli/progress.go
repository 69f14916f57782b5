package cli

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func isTerminalFd(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Progress is a progress bar on standard error that draws only when
// standard error is a terminal and the user did not ask for --quiet: a
// redirected log gets no control characters. The zero value and a nil
// *Progress do nothing.
type Progress struct{ bar *progressbar.ProgressBar }

// NewProgress starts a bar of total steps (-1: unknown) described by desc;
// bytes shows the count as a size.
func NewProgress(stderr io.Writer, quiet bool, total int64, desc string, bytes bool) *Progress {
	if quiet || !IsTerminal(stderr) {
		return nil
	}
	return &Progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowBytes(bytes),
		progressbar.OptionThrottle(100e6),
		progressbar.OptionClearOnFinish())}
}

// Add advances the bar by n steps.
func (p *Progress) Add(n int) {
	if p != nil {
		p.bar.Add(n)
	}
}

// Set moves the bar to n steps.
func (p *Progress) Set(n int) {
	if p != nil {
		p.bar.Set(n)
	}
}

// Describe changes the bar's description.
func (p *Progress) Describe(s string) {
	if p != nil {
		p.bar.Describe(s)
	}
}

// Finish clears the bar.
func (p *Progress) Finish() {
	if p != nil {
		p.bar.Finish()
	}
}

// Reader returns r counting what is read on the bar.
func (p *Progress) Reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return io.TeeReader(r, p.bar)
}

package vecio

import (
	"io"
	"sync"
)

// prefetcher reads its source on a goroutine into a few large buffers, so
// that decompression overlaps with decoding the rows.
type prefetcher struct {
	full  chan []byte
	free  chan []byte
	buf   []byte // the buffer being read, from full
	off   int
	err   error
	errMu sync.Mutex
	stop  chan struct{}
	once  sync.Once
	done  chan struct{}
}

const prefetchBuf = 1 << 20

func newPrefetcher(src io.Reader) *prefetcher {
	p := &prefetcher{
		full: make(chan []byte, 4),
		free: make(chan []byte, 4),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range 4 {
		p.free <- make([]byte, prefetchBuf)
	}
	go func() {
		defer close(p.done)
		defer close(p.full)
		for {
			var b []byte
			select {
			case b = <-p.free:
			case <-p.stop:
				return
			}
			n, err := io.ReadFull(src, b[:cap(b)])
			if n > 0 {
				p.full <- b[:n]
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				p.errMu.Lock()
				p.err = err
				p.errMu.Unlock()
				return
			}
		}
	}()
	return p
}

func (p *prefetcher) Read(b []byte) (int, error) {
	for p.buf == nil || p.off == len(p.buf) {
		if p.buf != nil {
			p.free <- p.buf[:cap(p.buf)] // never blocks: there are as many slots as buffers
			p.buf = nil
		}
		nb, ok := <-p.full
		if !ok {
			p.errMu.Lock()
			defer p.errMu.Unlock()
			return 0, p.err
		}
		p.buf, p.off = nb, 0
	}
	n := copy(b, p.buf[p.off:])
	p.off += n
	return n, nil
}

func (p *prefetcher) Close() error {
	p.once.Do(func() { close(p.stop) })
	// Drain so the goroutine can finish a pending send.
	go func() {
		for range p.full {
		}
	}()
	<-p.done
	return nil
}

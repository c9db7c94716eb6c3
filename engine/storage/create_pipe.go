package storage

// v2Pipe runs a v2Hasher on its own goroutine, so a torrent's SHA-256
// Merkle trees are built while the reading goroutine reads and computes
// the SHA-1 pieces: on two cores sharing with pieces roots runs at about
// the speed of the slower hash, not of the two added (BenchmarkCreateShare).
// Data is copied into a few pooled chunks, so the pipeline holds at most
// pipeChunks*hashChunk bytes in flight.
type v2Pipe struct {
	v    *v2Hasher
	ops  chan v2Op
	free chan []byte
	done chan struct{}
}

// pipeChunks is how many chunks may wait for the SHA-256 goroutine.
const pipeChunks = 4

// v2Op is one step for the hashing goroutine: start a file (path and
// length), hash data (returned to free afterwards), or end the file.
type v2Op struct {
	kind   byte // 's', 'd' or 'e'
	path   []string
	length int64
	data   []byte
}

func startV2Pipe(v *v2Hasher) *v2Pipe {
	p := &v2Pipe{v: v, ops: make(chan v2Op, pipeChunks), free: make(chan []byte, pipeChunks),
		done: make(chan struct{})}
	for range pipeChunks {
		p.free <- make([]byte, hashChunk)
	}
	go p.run()
	return p
}

func (p *v2Pipe) run() {
	defer close(p.done)
	for op := range p.ops {
		switch op.kind {
		case 's':
			p.v.startFile(op.path, op.length)
		case 'd':
			p.v.write(op.data)
			p.free <- op.data[:cap(op.data)]
		case 'e':
			p.v.endFile()
		}
	}
}

func (p *v2Pipe) startFile(path []string, length int64) {
	p.ops <- v2Op{kind: 's', path: path, length: length}
}

// write hands a copy of b (at most hashChunk bytes) to the goroutine.
func (p *v2Pipe) write(b []byte) {
	buf := <-p.free
	p.ops <- v2Op{kind: 'd', data: buf[:copy(buf, b)]}
}

func (p *v2Pipe) endFile() { p.ops <- v2Op{kind: 'e'} }

// wait ends the goroutine once it has hashed everything sent, and returns
// the hasher, whose results may then be read. It is safe to call twice.
func (p *v2Pipe) wait() *v2Hasher {
	select {
	case <-p.done:
	default:
		close(p.ops)
		<-p.done
	}
	return p.v
}

package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The parse cache is dbt's partial parsing, for a whole project: a load that finds
// nothing changed since the last one takes the project from .strata/parse-cache
// instead of rendering every model again. It is keyed by what a load reads, recorded
// as it reads it:
//
//   - the contents of every file the loader read (the project file, profiles.yml, every
//     model, macro, docs, YAML and test file), and the files it looked for and did not
//     find (profiles.yml in the folders it searched);
//   - the list of files under every folder it walked (a new or removed model);
//   - every environment variable a model, macro or profile read, with its value (or its
//     absence);
//   - the options (target, --vars, profiles folder), $HOME, the project folder, the
//     strata binary (its path, size and modification time) and the cache's format.
//
// A cache that does not match all of it, that cannot be read or decoded, or that
// comes from another strata is ignored and rewritten: a stale cache is never used. A
// load with errors writes none: its errors are reported again on the next load.

const cacheFormat = 4

// castagnoli is the cache file's checksum (CRC-32C, in hardware on amd64 and arm64):
// it is there to see a torn or damaged file, and reads the 9 MB of a 10,000-model
// cache in well under a millisecond, where sha256 took 7 ms. The files the cache
// stands for are still known by their sha256.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// racyWindow is how recently changed a file or folder must not be for its stat to be
// trusted by the next load: file times tick coarsely, so a file written again within
// a tick of its read could keep its stat.
var racyWindow = 2 * time.Second

// cacheFile is the parse cache's file name in Options.Cache.
const cacheFile = "parse-cache"

// inputs records what one load read.
type inputs struct {
	mu    sync.Mutex
	files map[string]fileRec // by absolute path
	walks map[string]walkRec // by its roots and extensions
	envs  map[string]envRec
}

// fileRec is one file a load read: its contents' hash (or that it was not there), and
// its size, times and inode, so that a later load can see it unchanged without
// reading it (as git's index does; see fileStat).
type fileRec struct {
	Path   string
	Sum    [32]byte
	Absent bool
	Stat   fileStat
}

// walkRec is one walk of the project's folders: the files it found, and the stat of
// every folder it went through (a folder gains or loses a file, its times change).
type walkRec struct {
	Roots, Exts []string
	Files       []string
	Dirs        []fileRec
}

type envRec struct {
	Value string
	Set   bool
}

func newInputs() *inputs {
	return &inputs{files: map[string]fileRec{}, walks: map[string]walkRec{}, envs: map[string]envRec{}}
}

// readFile is os.ReadFile, recorded.
func (in *inputs) readFile(path string) ([]byte, error) {
	if in == nil {
		return os.ReadFile(path)
	}
	data, st, err := readStat(path)
	rec := fileRec{Path: path, Absent: err != nil, Stat: st}
	if err == nil {
		rec.Sum = sha256.Sum256(data)
	}
	in.mu.Lock()
	in.files[path] = rec
	in.mu.Unlock()
	return data, err
}

func (in *inputs) walked(w walkRec) {
	if in == nil {
		return
	}
	in.mu.Lock()
	in.walks[fmt.Sprint(w.Roots, w.Exts)] = w
	in.mu.Unlock()
}

// env wraps an environment lookup so that every variable read is recorded.
func (in *inputs) env(look func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := look(name)
		in.mu.Lock()
		in.envs[name] = envRec{Value: v, Set: ok}
		in.mu.Unlock()
		return v, ok
	}
}

// cacheHeader is the cache's first record: what the load read, checked before the
// project (the records after it) is trusted.
type cacheHeader struct {
	Key   string
	Files []fileRec
	Walks []walkRec
	Envs  map[string]envRec
}

// cacheKey is what a load depends on besides the files and variables it read.
func cacheKey(dir string, opts Options) string {
	bin := "unknown"
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			bin = fmt.Sprintf("%s %d %d", exe, st.Size(), st.ModTime().UnixNano())
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		bin += " " + bi.Main.Version
	}
	vars, _ := json.Marshal(opts.Vars) // map keys sorted
	home, _ := os.UserHomeDir()
	return fmt.Sprintf("format %d\nbinary %s\ndir %s\ntarget %s\nvars %s\nprofiles %s\nhome %s",
		cacheFormat, bin, dir, opts.Target, vars, opts.ProfilesDir, home)
}

// valid says whether nothing the cached load read has changed: every variable has its
// value, every walked folder its files, and every file its contents (a file whose
// size, times and inode are as recorded is not read again; any other is read and
// hashed, so a touched file is still the same file).
func (h *cacheHeader) valid(env func(string) (string, bool)) bool {
	for name, rec := range h.Envs {
		if v, ok := env(name); ok != rec.Set || v != rec.Value {
			return false
		}
	}
	var changed atomic.Bool
	work := make(chan func())
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for f := range work {
				if !changed.Load() {
					f()
				}
			}
		})
	}
	for _, w := range h.Walks {
		work <- func() {
			if !w.unchanged() {
				changed.Store(true)
			}
		}
	}
	const batch = 256
	for i := 0; i < len(h.Files); i += batch {
		files := h.Files[i:min(i+batch, len(h.Files))]
		work <- func() {
			for _, f := range files {
				if !f.unchanged() {
					changed.Store(true)
					return
				}
			}
		}
	}
	close(work)
	wg.Wait()
	return !changed.Load()
}

// unchanged says whether a walk finds the same files: no folder it went through has
// changed, or walking again finds the same list.
func (w *walkRec) unchanged() bool {
	same := len(w.Dirs) > 0
	for _, d := range w.Dirs {
		if !d.Stat.Trusted {
			same = false
			break
		}
		fi, err := os.Stat(d.Path)
		if (err != nil) != d.Absent || err == nil && !statOf(fi).same(d.Stat) {
			same = false
			break
		}
	}
	if same {
		return true
	}
	files, _ := walkFiles(w.Roots, w.Exts)
	return slices.Equal(files, w.Files)
}

func (f *fileRec) unchanged() bool {
	if f.Stat.Trusted {
		if fi, err := os.Stat(f.Path); err == nil && statOf(fi).same(f.Stat) {
			return true
		}
	}
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return f.Absent
	}
	return !f.Absent && sha256.Sum256(data) == f.Sum
}

// loadCached returns the project from the parse cache, or nil when there is none that
// matches; with a cache of the same strata and options whose inputs changed, it returns
// that load too, whose renders the new load may reuse.
func loadCached(dir string, opts Options) (*Project, *prevLoad) {
	data, err := os.ReadFile(filepath.Join(opts.Cache, cacheFile))
	if err != nil || len(data) < 4 {
		return nil, nil
	}
	// the file is its contents' checksum, then the contents: a file cut short or
	// written over is seen before anything in it is believed
	if crc32.Checksum(data[4:], castagnoli) != binary.BigEndian.Uint32(data) {
		return nil, nil
	}
	// then the header's length and the header, the gob records and the wire records
	rest := data[4:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return nil, nil
	}
	u := &unwire{src: string(rest[k : k+int(n)])}
	h := u.header()
	if u.err != nil || u.i != len(u.src) || h.Key != cacheKey(dir, opts) {
		return nil, nil
	}
	// a bytes.Reader is read message by message by gob, never past its records
	rd := bytes.NewReader(rest[k+int(n):])
	dec := gob.NewDecoder(rd)
	// check the inputs while the project decodes: most of a cached load is these two
	ok := make(chan bool, 1)
	go func() { ok <- h.valid(opts.Env) }()
	p, err := decodeSnapshot(dec, rd, func(string) (string, bool) { return "", false })
	valid := <-ok
	if err != nil {
		return nil, nil
	}
	if !valid {
		pv := &prevLoad{fp: p.renderFP, envs: h.Envs, models: make(map[[2]string]*Model, len(p.Models))}
		for _, m := range p.Models {
			pv.models[[2]string{m.Path, m.Name}] = m
		}
		return nil, pv
	}
	p.re = newRenderEnv(p, opts.Env)
	p.cached = true
	return p, nil
}

// prepareCache takes what the parse cache of a load that just ended needs from the
// load itself (the record of what it read, the project's own gob record) and returns
// the rest of the work, which only reads the project, or nil if there is no cache to
// write.
func prepareCache(p *Project, in *inputs, opts Options) func() {
	in.mu.Lock()
	h := cacheHeader{Key: cacheKey(p.Dir, opts), Envs: maps.Clone(in.envs)}
	// a file changed in the same clock tick as its last read could look unchanged to
	// a stat: those recently changed are always hashed again
	recent := time.Now().Add(-racyWindow).UnixNano()
	for _, path := range slices.Sorted(maps.Keys(in.files)) {
		f := in.files[path]
		f.Stat.Trusted = f.Stat.Trusted && f.Stat.MTime < recent && f.Stat.CTime < recent
		h.Files = append(h.Files, f)
	}
	for _, k := range slices.Sorted(maps.Keys(in.walks)) {
		w := in.walks[k]
		w.Dirs = slices.Clone(w.Dirs)
		for i := range w.Dirs {
			d := &w.Dirs[i].Stat
			d.Trusted = d.Trusted && d.MTime < recent && d.CTime < recent
		}
		h.Walks = append(h.Walks, w)
	}
	in.mu.Unlock()
	proj, err := encodeProject(p)
	if err != nil {
		return nil // a value the cache cannot carry: no cache, the next load renders again
	}
	return func() { writeCache(p, &h, proj, opts.Cache) }
}

// writeCache writes a loaded project and what its load read, replacing the file at
// once (a reader sees the old cache or the new one, never half of one). Failing to
// write a cache is no error: the next load renders again.
func writeCache(p *Project, h *cacheHeader, proj []byte, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	hw := &wire{}
	hw.header(h)
	var gobs bytes.Buffer
	chunks, err := encodeSnapshot(gob.NewEncoder(&gobs), p, proj)
	if err != nil {
		return
	}
	// the file is the checksum of what follows it, then the header's length and the
	// header, the gob records and the wire chunks, written as they are
	parts := append([][]byte{binary.AppendUvarint(nil, uint64(len(hw.b))), hw.b, gobs.Bytes()}, chunks...)
	sum := crc32.New(castagnoli)
	for _, b := range parts {
		sum.Write(b)
	}
	f, err := os.CreateTemp(dir, cacheFile+".*")
	if err != nil {
		return
	}
	defer os.Remove(f.Name()) // after the rename, nothing is there
	for _, b := range append([][]byte{sum.Sum(nil)}, parts...) {
		if _, err := f.Write(b); err != nil {
			_ = f.Close()
			return
		}
	}
	if f.Close() != nil {
		return
	}
	_ = os.Rename(f.Name(), filepath.Join(dir, cacheFile))
}

// walkFiles lists the files under roots whose names end in one of exts, sorted, and
// the folders it went through (a missing root among them, as absent); a missing folder
// is an empty one, and hidden folders are skipped.
func walkFiles(roots, exts []string) ([]string, []fileRec) {
	return walkListed(roots, exts, listRoot)
}

// walkListed is walkFiles over the listings list gives.
func walkListed(roots, exts []string, list func(root string) *listing) ([]string, []fileRec) {
	var files []string
	var dirs []fileRec
	for _, root := range roots {
		l := list(root)
		for _, path := range l.files {
			for _, e := range exts {
				if strings.HasSuffix(path, e) {
					files = append(files, path)
					break
				}
			}
		}
		dirs = append(dirs, l.dirs...)
	}
	slices.Sort(files)
	return files, dirs
}

// listing is one walk of a root: every file under it, and the folders it went through.
type listing struct {
	files []string
	dirs  []fileRec
}

func listRoot(root string) *listing {
	l := &listing{}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				l.dirs = append(l.dirs, fileRec{Path: root, Absent: true, Stat: fileStat{Trusted: true}})
			}
			return nil
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			rec := fileRec{Path: path}
			if fi, err := d.Info(); err == nil {
				rec.Stat = statOf(fi)
			}
			l.dirs = append(l.dirs, rec)
			return nil
		}
		l.files = append(l.files, path)
		return nil
	})
	return l
}

// prevLoad is a cached load that no longer matches: what its renders depended on, for
// the models whose files did not change.
type prevLoad struct {
	fp     string
	envs   map[string]envRec
	models map[[2]string]*Model // by file and name
}

// renderFingerprint is what every model's load render depends on besides its own file
// and the environment variables it reads: the project's name, flavor, target, vars,
// docs and macros. "" when it cannot be taken (no render is then reused).
func renderFingerprint(p *Project) string {
	var macros map[string]string
	if p.macros != nil {
		macros = p.macros.sources
	}
	b, err := json.Marshal(struct {
		Name, Flavor string
		Warehouse    Warehouse
		Vars         map[string]any
		Docs, Macros map[string]string
	}{p.Name, p.Flavor, p.Warehouse, p.Vars, p.Docs, macros})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// reuse returns a model whose load render the previous load made, when its text is the
// same, what all renders depend on is the same, and every environment variable it read
// has the value it had (each read again, so that the new cache records it).
func (l *loader) reuse(file, name, src string) *Model {
	pv := l.prev
	if pv == nil || pv.fp == "" || pv.fp != l.p.renderFP {
		return nil
	}
	pm := pv.models[[2]string{file, name}]
	if pm == nil || pm.raw != src {
		return nil
	}
	for e := range pm.envsRead {
		rec, ok := pv.envs[e]
		v, set := l.opts.Env(e)
		if !ok || rec.Set != set || rec.Value != v {
			return nil
		}
	}
	m := &Model{Name: name, Path: file, raw: src, rendered: pm.rendered, varsRead: pm.varsRead, envsRead: pm.envsRead,
		Refs: pm.Refs, Sources: pm.Sources, fileConfig: pm.fileConfig, warned: pm.warned, reused: true, static: pm.static}
	if len(m.warned) > 0 {
		l.mu.Lock()
		l.p.Warnings = append(l.p.Warnings, m.warned...)
		l.mu.Unlock()
	}
	return m
}

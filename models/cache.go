package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
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

const cacheFormat = 1

// cacheFile is the parse cache's file name in Options.Cache.
const cacheFile = "parse-cache"

// inputs records what one load read.
type inputs struct {
	mu    sync.Mutex
	files map[string]fileSum // absolute path → its contents' hash, or absent
	walks map[string]walkRec // by its roots and extensions
	envs  map[string]envRec
}

type fileSum struct {
	Sum    [32]byte
	Absent bool
}

type walkRec struct {
	Roots, Exts []string
	Files       []string
}

type envRec struct {
	Value string
	Set   bool
}

func newInputs() *inputs {
	return &inputs{files: map[string]fileSum{}, walks: map[string]walkRec{}, envs: map[string]envRec{}}
}

// readFile is os.ReadFile, recorded.
func (in *inputs) readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if in == nil {
		return data, err
	}
	sum := fileSum{Absent: err != nil}
	if err == nil {
		sum.Sum = sha256.Sum256(data)
	}
	in.mu.Lock()
	in.files[path] = sum
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
// project (the second record) is trusted.
type cacheHeader struct {
	Key   string
	Files map[string]fileSum
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

// valid says whether nothing the cached load read has changed.
func (h *cacheHeader) valid(key string, env func(string) (string, bool)) bool {
	if h.Key != key {
		return false
	}
	for name, rec := range h.Envs {
		if v, ok := env(name); ok != rec.Set || v != rec.Value {
			return false
		}
	}
	for _, w := range h.Walks {
		if !slices.Equal(walkFiles(w.Roots, w.Exts), w.Files) {
			return false
		}
	}
	paths := slices.Collect(maps.Keys(h.Files))
	var changed atomic.Bool
	var wg sync.WaitGroup
	next := make(chan string)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for path := range next {
				data, err := os.ReadFile(path)
				want := h.Files[path]
				if (err != nil) != want.Absent || err == nil && sha256.Sum256(data) != want.Sum {
					changed.Store(true)
				}
			}
		})
	}
	for _, p := range paths {
		next <- p
	}
	close(next)
	wg.Wait()
	return !changed.Load()
}

// loadCached returns the project from the parse cache, or nil when there is none that
// matches.
func loadCached(dir string, opts Options) *Project {
	data, err := os.ReadFile(filepath.Join(opts.Cache, cacheFile))
	if err != nil || len(data) < sha256.Size {
		return nil
	}
	// the file is its contents' hash, then the contents: a file cut short or written
	// over is seen before anything in it is believed
	if sum := sha256.Sum256(data[sha256.Size:]); !bytes.Equal(sum[:], data[:sha256.Size]) {
		return nil
	}
	dec := gob.NewDecoder(bytes.NewReader(data[sha256.Size:]))
	var h cacheHeader
	if dec.Decode(&h) != nil || !h.valid(cacheKey(dir, opts), opts.Env) {
		return nil
	}
	var s snapshot
	if dec.Decode(&s) != nil || s.P == nil {
		return nil
	}
	p, err := s.project(opts.Env)
	if err != nil {
		return nil
	}
	p.cached = true
	return p
}

// saveCache writes a loaded project and what its load read, replacing the file at
// once (a reader sees the old cache or the new one, never half of one). Failing to
// write a cache is no error: the next load renders again.
func saveCache(p *Project, in *inputs, opts Options) {
	if err := os.MkdirAll(opts.Cache, 0o755); err != nil {
		return
	}
	in.mu.Lock()
	h := cacheHeader{Key: cacheKey(p.Dir, opts), Files: maps.Clone(in.files), Envs: maps.Clone(in.envs)}
	for _, k := range slices.Sorted(maps.Keys(in.walks)) {
		h.Walks = append(h.Walks, in.walks[k])
	}
	in.mu.Unlock()
	var buf bytes.Buffer
	buf.Write(make([]byte, sha256.Size))
	enc := gob.NewEncoder(&buf)
	if enc.Encode(&h) != nil || enc.Encode(newSnapshot(p)) != nil {
		return // a value gob cannot carry: no cache, the next load renders again
	}
	data := buf.Bytes()
	sum := sha256.Sum256(data[sha256.Size:])
	copy(data, sum[:])
	f, err := os.CreateTemp(opts.Cache, cacheFile+".*")
	if err != nil {
		return
	}
	defer os.Remove(f.Name()) // after the rename, nothing is there
	if _, err := f.Write(data); err != nil || f.Close() != nil {
		_ = f.Close()
		return
	}
	_ = os.Rename(f.Name(), filepath.Join(opts.Cache, cacheFile))
}

// walkFiles lists the files under roots whose names end in one of exts, sorted; a
// missing folder is an empty one, and hidden folders are skipped.
func walkFiles(roots, exts []string) []string {
	var files []string
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if path != root && len(d.Name()) > 0 && d.Name()[0] == '.' {
					return filepath.SkipDir
				}
				return nil
			}
			for _, e := range exts {
				if len(d.Name()) >= len(e) && d.Name()[len(d.Name())-len(e):] == e {
					files = append(files, path)
					break
				}
			}
			return nil
		})
	}
	slices.Sort(files)
	return files
}

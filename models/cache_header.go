package models

import (
	"maps"
	"slices"
)

// The parse cache's header (what a load read: every file with its stat and hash, every
// walk of the folders, the environment variables looked up) is written field by field
// too: it is read before anything else on every cached load, and gob spent 10-13 ms on
// the 10,000 file records of a large project (a [32]byte hash is 32 values to gob).

func (w *wire) header(h *cacheHeader) {
	w.str(h.Key)
	w.count(len(h.Files), h.Files == nil)
	for i := range h.Files {
		w.fileRec(&h.Files[i])
	}
	w.count(len(h.Walks), h.Walks == nil)
	for _, wk := range h.Walks {
		w.strs(wk.Roots)
		w.strs(wk.Exts)
		w.strs(wk.Files)
		w.count(len(wk.Dirs), wk.Dirs == nil)
		for i := range wk.Dirs {
			w.fileRec(&wk.Dirs[i])
		}
	}
	w.count(len(h.Envs), h.Envs == nil)
	for _, k := range slices.Sorted(maps.Keys(h.Envs)) {
		w.str(k)
		w.str(h.Envs[k].Value)
		w.boolean(h.Envs[k].Set)
	}
}

func (w *wire) fileRec(f *fileRec) {
	w.str(f.Path)
	w.b = append(w.b, f.Sum[:]...)
	w.boolean(f.Absent)
	w.iv(f.Stat.Size)
	w.iv(f.Stat.MTime)
	w.iv(f.Stat.CTime)
	w.uv(f.Stat.Ino)
	w.uv(f.Stat.Dev)
	w.boolean(f.Stat.Trusted)
}

func (u *unwire) header() cacheHeader {
	var h cacheHeader
	h.Key = u.str()
	if n := u.count(); n >= 0 {
		h.Files = make([]fileRec, n)
		for i := range h.Files {
			u.fileRec(&h.Files[i])
		}
	}
	if n := u.count(); n >= 0 {
		h.Walks = make([]walkRec, n)
		for i := range h.Walks {
			wk := &h.Walks[i]
			wk.Roots, wk.Exts, wk.Files = u.strs(), u.strs(), u.strs()
			if n := u.count(); n >= 0 {
				wk.Dirs = make([]fileRec, n)
				for j := range wk.Dirs {
					u.fileRec(&wk.Dirs[j])
				}
			}
		}
	}
	if n := u.count(); n >= 0 {
		h.Envs = make(map[string]envRec, n)
		for range n {
			k := u.str()
			h.Envs[k] = envRec{Value: u.str(), Set: u.boolean()}
		}
	}
	return h
}

func (u *unwire) fileRec(f *fileRec) {
	f.Path = u.str()
	if len(u.src)-u.i < len(f.Sum) {
		u.fail()
		return
	}
	copy(f.Sum[:], u.src[u.i:])
	u.i += len(f.Sum)
	f.Absent = u.boolean()
	f.Stat.Size, f.Stat.MTime, f.Stat.CTime = u.iv(), u.iv(), u.iv()
	f.Stat.Ino, f.Stat.Dev = u.uv(), u.uv()
	f.Stat.Trusted = u.boolean()
}

package models

import (
	"io/fs"
	"syscall"
)

// fileStat is what a stat says of a file, for the parse cache: a file whose stat is as
// recorded holds what it held (its contents changed, its change time would have).
// Trusted is false where the system gives no change time.
type fileStat struct {
	Size, MTime, CTime int64
	Ino, Dev           uint64
	Trusted            bool
}

func statOf(fi fs.FileInfo) fileStat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{}
	}
	return fileStat{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), CTime: st.Ctim.Nano(), Ino: uint64(st.Ino), Dev: uint64(st.Dev), Trusted: true}
}

func (s fileStat) same(o fileStat) bool { return s == o }

//go:build !linux

package models

import (
	"io"
	"io/fs"
	"os"
)

// fileStat is what a stat says of a file, for the parse cache. Without a change time
// a stat is never trusted: every file is read and hashed.
type fileStat struct {
	Size, MTime, CTime int64
	Ino, Dev           uint64
	Trusted            bool
}

func statOf(fs.FileInfo) fileStat { return fileStat{} }

func (s fileStat) same(o fileStat) bool { return false }

// readStat reads a file and the stat of what it read, in the syscalls os.ReadFile
// makes.
func readStat(path string) ([]byte, fileStat, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileStat{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileStat{}, err
	}
	data := make([]byte, 0, fi.Size()+1) // +1: io.ReadAll's last read finds EOF without growing
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fileStat{}, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
	return data, statOf(fi), nil
}

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
	return statOfSys(st)
}

// statOfSys is statOf from the system's own record, as fstat fills it.
func statOfSys(st *syscall.Stat_t) fileStat {
	return fileStat{Size: st.Size, MTime: st.Mtim.Nano(), CTime: st.Ctim.Nano(), Ino: uint64(st.Ino), Dev: uint64(st.Dev), Trusted: true}
}

func (s fileStat) same(o fileStat) bool { return s == o }

// readStat reads a file and the stat of what it read, in four system calls (open,
// fstat, read, close). os.ReadFile makes ten for each: an *os.File sets the descriptor
// non-blocking, tries the poller (which refuses a regular file) and sets it back, which
// on the 10,000 files of a first load was 60,000 calls to no purpose.
func readStat(path string) ([]byte, fileStat, error) {
	var fd int
	err := retry(func() (err error) { fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0); return err })
	if err != nil {
		return nil, fileStat{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := retry(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		return nil, fileStat{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	data := make([]byte, 0, st.Size+1) // +1: the read that fills less than the buffer is the last
	for {
		var n int
		err := retry(func() (err error) { n, err = syscall.Read(fd, data[len(data):cap(data)]); return err })
		if err != nil {
			return nil, fileStat{}, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		data = data[:len(data)+n]
		if len(data) < cap(data) && int64(len(data)) >= st.Size {
			break // all the stat said, and less than the buffer: the end
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
	return data, statOfSys(&st), nil
}

// retry calls f again while it is interrupted by a signal.
func retry(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

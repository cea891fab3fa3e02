package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var staticFiles embed.FS

// Static is the UI's CSS and JavaScript, embedded in the binary; the docs export writes
// the same files.
func Static() fs.FS {
	f, _ := fs.Sub(staticFiles, "static")
	return f
}

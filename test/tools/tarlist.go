// Lists tar archives as Go's archive/tar reads them (what docker load, containerd and podman use),
// for the differential test of copyedit's reader. Compiled into a temporary directory at test time.
//
//	tarlist FILE...   one JSON line per FILE, the same shape as tarlist.py (without "clean");
//	                  with no FILE, paths are read from stdin, one a line
package main

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
)

type entry struct {
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	Size   int64   `json:"size"`
	Sha256 *string `json:"sha256"`
	Link   string  `json:"link"`
}

type result struct {
	Ok      bool    `json:"ok"`
	Entries []entry `json:"entries,omitempty"`
	Error   string  `json:"error,omitempty"`
}

func one(path string) result {
	f, err := os.Open(path)
	if err != nil {
		return result{Error: err.Error()}
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReader(f))
	out := []entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return result{Ok: true, Entries: out}
		}
		if err != nil {
			return result{Error: err.Error()}
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue // returned as a header by Go, applied or ignored by others: not an entry
		}
		e := entry{Name: hex.EncodeToString([]byte(h.Name)), Type: string([]byte{h.Typeflag}), Size: h.Size, Link: hex.EncodeToString([]byte(h.Linkname))}
		if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeCont {
			d := sha256.New()
			if _, err := io.Copy(d, tr); err != nil {
				return result{Error: err.Error()}
			}
			s := hex.EncodeToString(d.Sum(nil))
			e.Sha256 = &s
		}
		out = append(out, e)
	}
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	paths := os.Args[1:]
	if len(paths) == 0 {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			paths = append(paths, in.Text())
		}
	}
	for _, p := range paths {
		enc.Encode(one(p))
	}
	w.Flush()
}

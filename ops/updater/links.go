package updater

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// readLink returns the hash a link of the release directory points at.
func (r *Releases) readLink(name string) (string, error) {
	t, err := os.Readlink(filepath.Join(r.dir, name))
	if err != nil {
		return "", err
	}
	return filepath.Base(t), nil
}

// setLink atomically points <Dir>/name at the relative target hash (a
// symlink made aside and renamed over the old one). An empty hash leaves
// the link as it is.
func (r *Releases) setLink(name, hash string) error {
	if hash == "" {
		return nil
	}
	tmp := filepath.Join(r.dir, "."+name+"-"+randomSuffix())
	if err := os.Symlink(hash, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(r.dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// sameFile checks that path resolves to the file want resolves to.
func sameFile(path, want string) error {
	got, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	w, err := filepath.EvalSymlinks(want)
	if err != nil {
		return err
	}
	if got != w {
		return fmt.Errorf("the executable %s resolves to %s, not to %s", path, got, w)
	}
	return nil
}

// maxLinkHops bounds symbolic link resolution, as the kernel does.
const maxLinkHops = 40

// throughLink reports whether resolving the absolute path passes through
// the symbolic link link: whether re-pointing link changes the file path
// names. Parent directories of link may themselves be links.
func throughLink(path, link string) (bool, error) {
	parent, err := filepath.EvalSymlinks(filepath.Dir(link))
	if err != nil {
		return false, err
	}
	link = filepath.Join(parent, filepath.Base(link))
	path = filepath.Clean(path)
	for range maxLinkHops {
		parts := strings.Split(strings.TrimPrefix(path, string(filepath.Separator)), string(filepath.Separator))
		cur := string(filepath.Separator)
		redirected := false
		for i, part := range parts {
			next := filepath.Join(cur, part)
			if next == link {
				return true, nil
			}
			fi, err := os.Lstat(next)
			if err != nil {
				return false, err
			}
			if fi.Mode()&os.ModeSymlink == 0 {
				cur = next
				continue
			}
			target, err := os.Readlink(next)
			if err != nil {
				return false, err
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(cur, target)
			}
			path = filepath.Join(append([]string{target}, parts[i+1:]...)...)
			redirected = true
			break
		}
		if !redirected {
			return false, nil
		}
	}
	return false, errors.New("too many levels of symbolic links")
}

// randomSuffix names temporary files.
func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

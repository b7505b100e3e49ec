package paymentctl

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// packageDirs returns every directory of the module holding non-test Go
// files, skipping testdata and hidden directories.
func packageDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		matches, _ := filepath.Glob(filepath.Join(path, "*.go"))
		for _, m := range matches {
			if !strings.HasSuffix(m, "_test.go") {
				dirs = append(dirs, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// parseDir parses the non-test files of dir with comments.
func parseDir(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// TestPackageDocs fails when a package has no package comment, or more
// than one file carries one (the second would be appended and read badly).
func TestPackageDocs(t *testing.T) {
	fset := token.NewFileSet()
	for _, dir := range packageDirs(t) {
		var withDoc []string
		for _, f := range parseDir(t, fset, dir) {
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				withDoc = append(withDoc, filepath.Base(fset.Position(f.Package).Filename))
			}
		}
		switch len(withDoc) {
		case 0:
			t.Errorf("package %s has no package doc comment", dir)
		case 1:
		default:
			t.Errorf("package %s has package doc comments in several files: %v", dir, withDoc)
		}
	}
}

// TestExportedNamesDocumented fails when an exported top-level name, or an
// exported method of an exported type, has no doc comment. Outside
// package main only: main's names are not an API.
func TestExportedNamesDocumented(t *testing.T) {
	fset := token.NewFileSet()
	for _, dir := range packageDirs(t) {
		for _, f := range parseDir(t, fset, dir) {
			if f.Name.Name == "main" {
				continue
			}
			for _, missing := range undocumented(f) {
				pos := fset.Position(missing.Pos())
				t.Errorf("%s:%d: exported %s has no doc comment", pos.Filename, pos.Line, name(missing))
			}
		}
	}
}

// undocumented returns the exported declarations of f without a comment.
func undocumented(f *ast.File) []ast.Node {
	var out []ast.Node
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv != nil && !exportedReceiver(d.Recv) {
				continue
			}
			out = append(out, d)
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						out = append(out, s)
					}
				case *ast.ValueSpec:
					// A documented group documents its members.
					if d.Doc != nil || s.Doc != nil || s.Comment != nil {
						continue
					}
					for _, n := range s.Names {
						if n.IsExported() {
							out = append(out, s)
							break
						}
					}
				}
			}
		}
	}
	return out
}

func exportedReceiver(recv *ast.FieldList) bool {
	if len(recv.List) == 0 {
		return false
	}
	t := recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}

func name(n ast.Node) string {
	switch x := n.(type) {
	case *ast.FuncDecl:
		return "func " + x.Name.Name
	case *ast.TypeSpec:
		return "type " + x.Name.Name
	case *ast.ValueSpec:
		return "value " + x.Names[0].Name
	}
	return "declaration"
}

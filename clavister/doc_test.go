package clavister

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docRefs are references to files a module user does not have: the
// project's own notes (a Markdown dossier with numbered sections, the
// shared directory of the repository, the fixture captures).
var docRefs = regexp.MustCompile(`§|\.md\b|\.\./shared|shared/vendors|fixtures/`)

// camelWord finds identifiers that mix cases, as unexported Go names do
// (uploadSize, readHA); plain words are not mistaken for them.
var camelWord = regexp.MustCompile(`\b[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\b`)

// TestDocsStandAlone: the documentation of every exported identifier of
// clavister and clavistertest reads on its own in the module: it names the
// public sources in words, never a file of the project that a module user
// does not have, and never an unexported identifier.
func TestDocsStandAlone(t *testing.T) {
	for _, dir := range []string{".", "clavistertest"} {
		fset := token.NewFileSet()
		var files []*ast.File
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
		}
		unexported := map[string]bool{}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.FuncDecl:
					if !x.Name.IsExported() {
						unexported[x.Name.Name] = true
					}
				case *ast.TypeSpec:
					if !x.Name.IsExported() {
						unexported[x.Name.Name] = true
					}
				case *ast.ValueSpec:
					for _, id := range x.Names {
						if !id.IsExported() {
							unexported[id.Name] = true
						}
					}
				case *ast.Field:
					for _, id := range x.Names {
						if !id.IsExported() {
							unexported[id.Name] = true
						}
					}
				}
				return true
			})
		}
		pkg, err := doc.NewFromFiles(fset, files, "github.com/hitless/hitless/clavister/"+dir)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what, text string) {
			t.Helper()
			for _, line := range strings.Split(text, "\n") {
				if m := docRefs.FindString(line); m != "" {
					t.Errorf("%s/%s: doc refers to %q, a file module users do not have: %s", dir, what, m, strings.TrimSpace(line))
				}
				for _, w := range camelWord.FindAllString(line, -1) {
					if unexported[w] {
						t.Errorf("%s/%s: doc names the unexported %s: %s", dir, what, w, strings.TrimSpace(line))
					}
				}
			}
		}
		check("package", pkg.Doc)
		values := func(vs []*doc.Value) {
			for _, v := range vs {
				check(strings.Join(v.Names, ","), v.Doc)
				for _, spec := range v.Decl.Specs {
					vs := spec.(*ast.ValueSpec)
					for _, id := range vs.Names {
						if id.IsExported() {
							check(id.Name, vs.Doc.Text()+vs.Comment.Text())
						}
					}
				}
			}
		}
		funcs := func(prefix string, fs []*doc.Func) {
			for _, f := range fs {
				check(prefix+f.Name, f.Doc)
			}
		}
		values(pkg.Consts)
		values(pkg.Vars)
		funcs("", pkg.Funcs)
		for _, typ := range pkg.Types {
			check(typ.Name, typ.Doc)
			values(typ.Consts)
			values(typ.Vars)
			funcs("", typ.Funcs)
			funcs(typ.Name+".", typ.Methods)
			for _, spec := range typ.Decl.Specs {
				st, ok := spec.(*ast.TypeSpec).Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, f := range st.Fields.List {
					exported := len(f.Names) == 0
					for _, id := range f.Names {
						exported = exported || id.IsExported()
					}
					if exported {
						check(typ.Name+" field", f.Doc.Text()+f.Comment.Text())
					}
				}
			}
		}
	}
}

package files_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/shadowless-dev/shadowless/storage/files"
)

// A file center with a 1 KiB quota: upload, list, delete to the trash and restore.
func ExampleService() {
	dir, _ := os.MkdirTemp("", "files-example")
	defer os.RemoveAll(dir)
	svc, err := files.Open(dir, files.WithDefaultQuota(1024))
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	ctx := context.Background()

	svc.Mkdir(ctx, "alice", "/notes")
	svc.Upload(ctx, "alice", "/notes/todo.txt", strings.NewReader("buy milk"), 8)
	list, _ := svc.List(ctx, "alice", "/notes")
	for _, fi := range list {
		fmt.Println(fi.Path, fi.Size)
	}

	item, _ := svc.Delete(ctx, "alice", "/notes/todo.txt")
	us, _ := svc.Usage(ctx, "alice")
	fmt.Printf("in trash: %s, used %d of %d (trash %d)\n", item.Path, us.Used, us.Quota, us.Trash)
	svc.Restore(ctx, "alice", item.ID, "")

	_, err = svc.Upload(ctx, "alice", "/big.bin", strings.NewReader(strings.Repeat("x", 2000)), 2000)
	fmt.Println(err != nil && strings.Contains(err.Error(), "quota exceeded"))

	_, err = svc.Stat(ctx, "alice", "/notes/../../etc/passwd")
	fmt.Println(err)
	// Output:
	// /notes/todo.txt 8
	// in trash: /notes/todo.txt, used 8 of 1024 (trash 8)
	// true
	// files: invalid path: ".." segment
}

// Serving the REST API and WebDAV for users with passwords.
func ExampleService_Handler() {
	dir, _ := os.MkdirTemp("", "files-example")
	defer os.RemoveAll(dir)
	svc, _ := files.Open(dir)
	defer svc.Close()
	auth := files.BasicAuth(files.Passwords(map[string]string{"alice": "secret"}))
	srv := httptest.NewServer(svc.Handler(auth))
	defer srv.Close()

	put, _ := http.NewRequest("PUT", srv.URL+"/hello.txt", strings.NewReader("hello, world")) // WebDAV
	put.SetBasicAuth("alice", "secret")
	resp, _ := http.DefaultClient.Do(put)
	resp.Body.Close()
	fmt.Println("PUT", resp.StatusCode)

	get, _ := http.NewRequest("GET", srv.URL+"/api/v1/content/hello.txt", nil) // REST
	get.SetBasicAuth("alice", "secret")
	get.Header.Set("Range", "bytes=7-11")
	resp, _ = http.DefaultClient.Do(get)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("GET", resp.StatusCode, string(body))
	// Output:
	// PUT 201
	// GET 206 world
}

package workload

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strings"

	"github.com/jezek/xgb/xproto"
)

var (
	cWhite   = color.RGBA{255, 255, 255, 255}
	cBlack   = color.RGBA{0, 0, 0, 255}
	cText    = color.RGBA{30, 30, 30, 255}
	cGrey    = color.RGBA{225, 225, 228, 255}
	cDark    = color.RGBA{60, 63, 70, 255}
	cTitle   = color.RGBA{45, 85, 150, 255}
	cDesk    = color.RGBA{40, 110, 120, 255}
	cSelect  = color.RGBA{60, 120, 215, 255}
	cSelect2 = color.RGBA{215, 120, 40, 255}
	cLink    = color.RGBA{20, 60, 190, 255}
)

var words = strings.Fields(`the a of and to in is for on with as by at from report budget quarter
plan meeting notes project design review draft final summary invoice customer order data
sales team market product update schedule today results figure table chart section result
analysis growth revenue cost office policy server network storage desktop session client
stream video window screen document letter contract client partner system access user`)

func (d *drawer) word() string { return words[d.rng.IntN(len(words))] }

func (d *drawer) sentence(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = d.word()
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:] + ". "
}

// frameWindow draws a window decoration (title bar with a title, border) around r on dst.
func (d *drawer) frameWindow(dst xproto.Drawable, r image.Rectangle, title string) image.Rectangle {
	d.fillRects(dst, cDark, r.Inset(-1))
	bar := image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+24)
	d.fillRects(dst, cTitle, bar)
	d.text(dst, cWhite, cTitle, bar.Min.X+10, bar.Min.Y+6, title)
	for i, c := range []color.RGBA{{230, 80, 70, 255}, {240, 190, 60, 255}, {90, 190, 90, 255}} {
		d.fillArcs(dst, c, []xproto.Arc{{X: int16(bar.Max.X - 22 - 20*i), Y: int16(bar.Min.Y + 6), Width: 12, Height: 12, Angle2: 360 * 64}})
	}
	body := image.Rect(r.Min.X, bar.Max.Y, r.Max.X, r.Max.Y)
	d.fillRects(dst, cWhite, body)
	return body
}

// ---- file operations ----

// fileOps is a file manager: a folder's list view that redraws when a folder is opened, a
// row selected and a document window opened by a click, and that window dragged around.
type fileOps struct {
	scenePix xproto.Pixmap
	docPix   xproto.Pixmap
	backPix  xproto.Pixmap   // composes a dragged frame, shown in one copy
	list     image.Rectangle // list view on screen
	rowH     int
	rows     int
	folder   int
	selected int
	selColor int
	doc      image.Rectangle // document window on screen (size also of docPix)
	docShown bool
	from, to image.Point
}

func (f *fileOps) setup(d *drawer) error {
	var err error
	if f.scenePix, err = d.pixmap(d.w, d.h); err != nil {
		return err
	}
	if f.backPix, err = d.pixmap(d.w, d.h); err != nil {
		return err
	}
	sp := xproto.Drawable(f.scenePix)
	d.fillRects(sp, cDesk, image.Rect(0, 0, d.w, d.h))
	for i := 0; i < 6; i++ { // desktop icons
		y := 40 + i*80
		if y+60 > d.h {
			break
		}
		d.fillRects(sp, color.RGBA{230, 200, 90, 255}, image.Rect(d.w-80, y, d.w-40, y+32))
		d.text(sp, cWhite, cDesk, d.w-90, y+38, fmt.Sprintf("folder%d", i))
	}
	win := image.Rect(d.w/12, d.h/10, d.w/12+d.w*3/5, d.h/10+d.h*3/4)
	body := d.frameWindow(sp, win, "Files - /home/user/Documents")
	side := image.Rect(body.Min.X, body.Min.Y, body.Min.X+min(180, body.Dx()/4), body.Max.Y)
	d.fillRects(sp, cGrey, side)
	for i, n := range []string{"Home", "Desktop", "Documents", "Downloads", "Music", "Pictures", "Videos", "Trash"} {
		d.text(sp, cText, cGrey, side.Min.X+12, side.Min.Y+12+i*22, n)
	}
	header := image.Rect(side.Max.X, body.Min.Y, body.Max.X, body.Min.Y+22)
	d.fillRects(sp, cGrey, header)
	d.text(sp, cText, cGrey, header.Min.X+30, header.Min.Y+5, "Name")
	d.text(sp, cText, cGrey, header.Max.X-260, header.Min.Y+5, "Size")
	d.text(sp, cText, cGrey, header.Max.X-170, header.Min.Y+5, "Modified")
	f.list = image.Rect(side.Max.X, header.Max.Y, body.Max.X, body.Max.Y)
	f.rowH = 20
	f.rows = max(f.list.Dy()/f.rowH, 1)
	f.selected = -1
	f.drawList(d)

	dw, dh := min(d.w*2/5, 640), min(d.h*9/20, 420)
	if f.docPix, err = d.pixmap(dw, dh); err != nil {
		return err
	}
	dp := xproto.Drawable(f.docPix)
	dbody := d.frameWindow(dp, image.Rect(1, 1, dw-1, dh-1), "report.odt - Writer")
	for y := dbody.Min.Y + 16; y+charH < dbody.Max.Y-10; y += 16 {
		line := d.sentence(4 + d.rng.IntN(8))
		d.text(dp, cText, cWhite, dbody.Min.X+20, y, line[:min(len(line), (dbody.Dx()-40)/charW)])
	}
	f.doc = image.Rect(0, 0, dw, dh)
	d.copyArea(sp, xproto.Drawable(d.win), image.Rect(0, 0, d.w, d.h), image.Point{})
	return nil
}

func (f *fileOps) rowRect(i int) image.Rectangle {
	y := f.list.Min.Y + i*f.rowH
	return image.Rect(f.list.Min.X, y, f.list.Max.X, y+f.rowH)
}

func (f *fileOps) drawRow(d *drawer, i int) {
	sp := xproto.Drawable(f.scenePix)
	r := f.rowRect(i)
	bg, fg := cWhite, cText
	if i%2 == 1 {
		bg = color.RGBA{245, 246, 250, 255}
	}
	if i == f.selected {
		bg, fg = cSelect, cWhite
		if f.selColor%2 == 1 {
			bg = cSelect2
		}
	}
	d.fillRects(sp, bg, r)
	// Names depend only on folder and row, so a folder looks the same every time it opens.
	h := uint32(f.folder*7919+i*104729) * 2654435761
	ext := []string{"odt", "pdf", "png", "txt", "xlsx", "mp4", ""}[h>>29%7]
	name := words[h>>8%uint32(len(words))] + "_" + words[h>>16%uint32(len(words))]
	icon := color.RGBA{230, 200, 90, 255}
	size := "--"
	if ext != "" {
		name += "." + ext
		icon = []color.RGBA{{70, 130, 220, 255}, {210, 60, 50, 255}, {90, 180, 90, 255}, {150, 150, 150, 255}, {40, 150, 80, 255}, {160, 80, 200, 255}}[h>>29%6]
		size = fmt.Sprintf("%d kB", h>>20%4000+1)
	}
	d.fillRects(sp, icon, image.Rect(r.Min.X+8, r.Min.Y+3, r.Min.X+22, r.Min.Y+17))
	d.text(sp, fg, bg, r.Min.X+30, r.Min.Y+4, name)
	d.text(sp, fg, bg, r.Max.X-260, r.Min.Y+4, size)
	d.text(sp, fg, bg, r.Max.X-170, r.Min.Y+4, fmt.Sprintf("2026-%02d-%02d %02d:%02d", h>>4%12+1, h>>9%28+1, h>>14%24, h>>19%60))
}

func (f *fileOps) drawList(d *drawer) {
	for i := 0; i < f.rows; i++ {
		f.drawRow(d, i)
	}
}

// compose shows r of the scene on the window, with the document window on top.
func (f *fileOps) compose(d *drawer, r image.Rectangle) {
	win := xproto.Drawable(d.win)
	d.copyArea(xproto.Drawable(f.scenePix), win, r, r.Min)
	if f.docShown {
		if in := r.Intersect(f.doc); !in.Empty() {
			d.copyArea(xproto.Drawable(f.docPix), win, in.Sub(f.doc.Min), in.Min)
		}
	}
}

// moveDoc moves the document window to p: the uncovered and the newly covered parts are
// composed off screen and shown in one copy, as a compositing window manager would.
func (f *fileOps) moveDoc(d *drawer, p image.Point) {
	old := f.doc
	f.doc = f.doc.Sub(f.doc.Min).Add(p)
	u := old.Union(f.doc).Intersect(image.Rect(0, 0, d.w, d.h))
	back := xproto.Drawable(f.backPix)
	d.copyArea(xproto.Drawable(f.scenePix), back, u, u.Min)
	d.copyArea(xproto.Drawable(f.docPix), back, f.doc.Sub(f.doc.Min), f.doc.Min)
	d.copyArea(back, xproto.Drawable(d.win), u, u.Min)
}

// The file manager's 6-second cycle (ticks at 60 Hz).
const fileCycle = 360

func (f *fileOps) tick(d *drawer, t int) bool {
	c := (t - 1) % fileCycle
	switch {
	case c == 0: // open the next folder: the list view redraws
		f.folder++
		f.selected = -1
		f.drawList(d)
		f.compose(d, f.list)
		return true
	case c == 30: // click a file: its row is selected
		old := f.selected
		f.selected = int(uint32(t*2654435761)>>8) % f.rows
		if old >= 0 {
			f.drawRow(d, old)
			f.compose(d, f.rowRect(old))
		}
		f.drawRow(d, f.selected)
		f.compose(d, f.rowRect(f.selected))
		return true
	case c == 40: // ... and it opens in a window
		f.from = image.Pt(d.rng.IntN(max(d.w-f.doc.Dx(), 1)), d.rng.IntN(max(d.h-f.doc.Dy(), 1)))
		f.to = image.Pt(d.rng.IntN(max(d.w-f.doc.Dx(), 1)), d.rng.IntN(max(d.h-f.doc.Dy(), 1)))
		f.doc = f.doc.Sub(f.doc.Min).Add(f.from)
		f.docShown = true
		f.compose(d, f.doc)
		return true
	case c > 60 && c <= 150: // drag the window along a smooth path
		s := float64(c-60) / 90
		s = s * s * (3 - 2*s)
		p := image.Pt(f.from.X+int(float64(f.to.X-f.from.X)*s), f.from.Y+int(float64(f.to.Y-f.from.Y)*s+30*math.Sin(s*math.Pi)))
		if p == f.doc.Min {
			return false
		}
		f.moveDoc(d, p)
		return true
	case c == 280: // close it
		f.docShown = false
		f.compose(d, f.doc)
		return true
	}
	return false
}

func (f *fileOps) respond(d *drawer, ev inputEvent) {
	old := f.selected
	i := (old + 1) % f.rows
	if !ev.key && ev.pos.In(f.list) {
		i = (ev.pos.Y - f.list.Min.Y) / f.rowH
	}
	f.selected = min(i, f.rows-1)
	f.selColor++
	if old >= 0 && old != f.selected {
		f.drawRow(d, old)
		f.compose(d, f.rowRect(old))
	}
	f.drawRow(d, f.selected)
	f.compose(d, f.rowRect(f.selected))
}

// ---- web browsing ----

// webPage is a browser showing a long page of text and pictures that is scrolled in flicks
// and reloaded now and then.
type webPage struct {
	page     xproto.Pixmap
	ph       int
	view     image.Rectangle
	off      int
	dir      int
	flickAt  int
	flickOff int
	flickTo  int
	refresh  int // tick the current reload began, 0: none
}

const chromeH = 72

func (p *webPage) setup(d *drawer) error {
	win := xproto.Drawable(d.win)
	d.fillRects(win, color.RGBA{222, 225, 230, 255}, image.Rect(0, 0, d.w, chromeH))
	d.fillRects(win, cWhite, image.Rect(8, 6, min(260, d.w-8), 32))
	d.text(win, cText, cWhite, 16, 12, "Quarterly report - Intranet")
	d.fillRects(win, cWhite, image.Rect(90, 40, d.w-20, 64))
	d.text(win, cText, cWhite, 100, 46, "https://intranet.example/reports/2026/q3/summary.html")
	p.view = image.Rect(0, chromeH, d.w, d.h)
	p.ph = 3 * d.h
	var err error
	if p.page, err = d.pixmap(d.w, p.ph); err != nil {
		return err
	}
	pg := xproto.Drawable(p.page)
	d.fillRects(pg, cWhite, image.Rect(0, 0, d.w, p.ph))
	photoW, photoH := min(480, d.w/3), min(300, d.h/3)
	photos := make([]xproto.Pixmap, 3)
	for i := range photos {
		if photos[i], err = d.pixmap(photoW, photoH); err != nil {
			return err
		}
		if err := d.upload(xproto.Drawable(photos[i]), landscape(d.rng, photoW, photoH, 40+20*float64(i)), image.Point{}); err != nil {
			return err
		}
	}
	margin := max(d.w/12, 20)
	colW := d.w - 2*margin
	y := 20
	d.fillRects(pg, cTitle, image.Rect(0, 0, d.w, 60))
	d.text(pg, cWhite, cTitle, margin, 24, "INTRANET  |  News  |  Reports  |  People  |  Tools")
	y = 90
	for k := 0; y < p.ph-40; k++ {
		d.fillRects(pg, cTitle, image.Rect(margin, y, margin+6, y+18))
		d.text(pg, cText, cWhite, margin+14, y+3, strings.ToUpper(d.sentence(3+d.rng.IntN(4))))
		y += 34
		textW := colW
		if k%2 == 0 { // a picture floated right of the paragraph
			ph := photos[k/2%len(photos)]
			textW = colW - photoW - 24
			d.copyArea(xproto.Drawable(ph), pg, image.Rect(0, 0, photoW, photoH), image.Pt(margin+colW-photoW, y))
		}
		chars := max(textW/charW, 10)
		lines := 8 + d.rng.IntN(14)
		if k%2 == 0 {
			lines = max(lines, photoH/16+1)
		}
		var para strings.Builder
		for para.Len() < lines*chars {
			para.WriteString(d.sentence(5 + d.rng.IntN(10)))
		}
		text := para.String()
		for l := 0; l < lines && y < p.ph-20; l++ {
			line := text[l*chars : (l+1)*chars]
			d.text(pg, cText, cWhite, margin, y, line)
			if l%5 == 2 { // a link in some lines
				d.text(pg, cLink, cWhite, margin+chars/3*charW, y, line[chars/3:chars/3+12])
			}
			y += 16
		}
		y += 28
	}
	for _, ph := range photos {
		xproto.FreePixmap(d.conn, ph)
	}
	p.dir = 1
	p.show(d)
	return nil
}

func (p *webPage) show(d *drawer) {
	d.copyArea(xproto.Drawable(p.page), xproto.Drawable(d.win), image.Rect(0, p.off, d.w, p.off+p.view.Dy()), p.view.Min)
}

func (p *webPage) maxOff() int { return max(p.ph-p.view.Dy(), 0) }

// The browser's 9-second cycle: a flick every 0.75 s, a reload at the end.
const (
	webCycle   = 540
	flickEvery = 45
	flickLen   = 24
	reloadAt   = 480
	reloadLen  = 24
)

func (p *webPage) tick(d *drawer, t int) bool {
	c := t % webCycle
	if c >= reloadAt {
		k := c - reloadAt
		switch {
		case k == 0: // reload: the page goes blank ...
			d.fillRects(xproto.Drawable(d.win), cWhite, p.view)
			return true
		case k%4 == 0 && k <= reloadLen: // ... and comes back band by band, top down
			band := p.view.Dy() * k / reloadLen
			prev := p.view.Dy() * (k - 4) / reloadLen
			d.copyArea(xproto.Drawable(p.page), xproto.Drawable(d.win), image.Rect(0, p.off+prev, d.w, p.off+band), image.Pt(0, p.view.Min.Y+prev))
			return true
		}
		return false
	}
	if c%flickEvery == 0 {
		p.flickAt, p.flickOff = t, p.off
		dist := 200 + d.rng.IntN(300)
		if p.off+p.dir*dist > p.maxOff() || p.off+p.dir*dist < 0 {
			p.dir = -p.dir
		}
		p.flickTo = min(max(p.off+p.dir*dist, 0), p.maxOff())
	}
	if k := t - p.flickAt; k > 0 && k <= flickLen {
		s := float64(k) / flickLen
		s = 1 - (1-s)*(1-s)*(1-s) // ease out, as a flick decelerates
		off := p.flickOff + int(float64(p.flickTo-p.flickOff)*s)
		if off != p.off {
			p.off = off
			p.show(d)
			return true
		}
	}
	return false
}

func (p *webPage) respond(d *drawer, ev inputEvent) {
	if ev.key { // page down (or up at the end)
		next := p.off + p.view.Dy()/2
		if next > p.maxOff() {
			next = 0
		}
		p.off = next
		p.flickAt = -flickLen - 1
		p.show(d)
		return
	}
	// A click on a link: it shows pressed at once.
	r := image.Rect(ev.pos.X-90, ev.pos.Y-10, ev.pos.X+90, ev.pos.Y+10).Intersect(p.view)
	d.fillRects(xproto.Drawable(d.win), color.RGBA{200, 220, 255, 255}, r)
	d.text(xproto.Drawable(d.win), cLink, color.RGBA{200, 220, 255, 255}, r.Min.X+6, r.Min.Y+4, "opening link ...")
}

// ---- video playback ----

// video pans across a natural-looking picture with objects moving over it, full screen or
// in a player window, at 24, 30 or 60 frames per second; input seeks and shows the player's
// on-screen controls.
type video struct {
	windowed bool
	fps      int
	tex      xproto.Pixmap
	back     xproto.Pixmap // the frame is composed here and shown in one copy
	tw, th   int
	view     image.Rectangle
	phase    int
	osdUntil int
	last     int
	balls    []ball
}

type ball struct {
	c          color.RGBA
	r          int
	ax, ay     float64
	wx, wy, ph float64
}

func (v *video) setup(d *drawer) error {
	v.view = image.Rect(0, 0, d.w, d.h)
	if v.windowed {
		d.fillRects(xproto.Drawable(d.win), cDesk, image.Rect(0, 0, d.w, d.h))
		vw, vh := d.w/2&^15, d.h/2&^15
		x, y := (d.w-vw)/2&^15, (d.h-vh)/2&^15
		outer := image.Rect(x-4, y-28, x+vw+4, y+vh+40)
		d.frameWindow(xproto.Drawable(d.win), outer, "Holiday clip.mp4 - Video Player")
		d.fillRects(xproto.Drawable(d.win), cDark, image.Rect(outer.Min.X, y+vh, outer.Max.X, outer.Max.Y))
		d.text(xproto.Drawable(d.win), cWhite, cDark, x+10, y+vh+14, "||  00:42 / 03:10        vol ||||||")
		v.view = image.Rect(x, y, x+vw, y+vh)
	}
	v.tw, v.th = v.view.Dx()*3/2, v.view.Dy()*3/2
	var err error
	if v.tex, err = d.pixmap(v.tw, v.th); err != nil {
		return err
	}
	if v.back, err = d.pixmap(v.view.Dx(), v.view.Dy()); err != nil {
		return err
	}
	if err := d.upload(xproto.Drawable(v.tex), landscape(d.rng, v.tw, v.th, float64(v.view.Dy())/6), image.Point{}); err != nil {
		return err
	}
	for i := 0; i < 7; i++ {
		r := v.view.Dy()/30 + d.rng.IntN(v.view.Dy()/12+1)
		v.balls = append(v.balls, ball{
			c:  color.RGBA{uint8(80 + d.rng.IntN(170)), uint8(40 + d.rng.IntN(150)), uint8(30 + d.rng.IntN(120)), 255},
			r:  r,
			ax: float64(v.view.Dx()/2 - r - 1), ay: float64(v.view.Dy()/2 - r - 1),
			wx: 0.3 + d.rng.Float64()*0.9, wy: 0.3 + d.rng.Float64()*0.9, ph: d.rng.Float64() * 6.28,
		})
	}
	v.draw(d, 0)
	return nil
}

func (v *video) draw(d *drawer, t int) {
	secs := float64(t+v.phase) / float64(v.fps)
	vw, vh := v.view.Dx(), v.view.Dy()
	ox := int(float64(v.tw-vw) * (0.5 + 0.5*math.Sin(secs*2*math.Pi/9)))
	oy := int(float64(v.th-vh) * (0.5 + 0.5*math.Sin(secs*2*math.Pi/13+1)))
	back := xproto.Drawable(v.back)
	d.copyArea(xproto.Drawable(v.tex), back, image.Rect(ox, oy, ox+vw, oy+vh), image.Point{})
	cx, cy := float64(vw/2), float64(vh/2)
	for _, b := range v.balls {
		x := cx + b.ax*math.Sin(secs*b.wx+b.ph) - float64(b.r)
		y := cy + b.ay*math.Sin(secs*b.wy*1.3+b.ph*2) - float64(b.r)
		x, y = math.Floor(x), math.Floor(y)
		d.fillArcs(back, b.c, []xproto.Arc{{X: int16(x), Y: int16(y), Width: uint16(2 * b.r), Height: uint16(2 * b.r), Angle2: 360 * 64}})
		hl := lerpColor(b.c, cWhite, 0.5)
		d.fillArcs(back, hl, []xproto.Arc{{X: int16(x) + int16(b.r/3), Y: int16(y) + int16(b.r/4), Width: uint16(b.r / 2), Height: uint16(b.r / 2), Angle2: 360 * 64}})
	}
	if t < v.osdUntil { // the player's controls over the picture
		bar := image.Rect(20, vh-40, vw-20, vh-28)
		d.fillRects(back, cDark, bar)
		pos := bar.Min.X + int(float64(bar.Dx())*math.Mod(secs/190, 1))
		d.fillRects(back, color.RGBA{230, 60, 60, 255}, image.Rect(bar.Min.X, bar.Min.Y, pos, bar.Max.Y))
		d.fillRects(back, cWhite, image.Rect(20, vh-80, 32, vh-50), image.Rect(40, vh-80, 52, vh-50))
	}
	d.copyArea(back, xproto.Drawable(d.win), image.Rect(0, 0, vw, vh), v.view.Min)
}

func (v *video) tick(d *drawer, t int) bool {
	v.last = t
	v.draw(d, t)
	return true
}

func (v *video) respond(d *drawer, ev inputEvent) {
	v.phase += 2 * v.fps // seek 2 s ahead
	v.osdUntil = v.last + v.fps
	v.draw(d, v.last)
}

// ---- 3D ----

// threeD flies fast over a chequered plain between pillars, like a game at 60 fps, drawn
// into a back buffer and shown whole.
type threeD struct {
	back    xproto.Pixmap
	pillars []pillar
	palette int
	last    int
}

type pillar struct {
	x, z float64
	c    color.RGBA
}

const worldLoop = 160.0 // the pillar field repeats every worldLoop units of depth

func (g *threeD) setup(d *drawer) error {
	var err error
	if g.back, err = d.pixmap(d.w, d.h); err != nil {
		return err
	}
	for i := 0; i < 40; i++ {
		g.pillars = append(g.pillars, pillar{x: d.rng.Float64()*60 - 30, z: d.rng.Float64() * worldLoop,
			c: color.RGBA{uint8(120 + d.rng.IntN(130)), uint8(60 + d.rng.IntN(120)), uint8(60 + d.rng.IntN(160)), 255}})
	}
	g.draw(d, 0)
	return nil
}

var palettes = [][3]color.RGBA{
	{{210, 200, 180, 255}, {70, 90, 60, 255}, {100, 150, 220, 255}},
	{{60, 60, 80, 255}, {220, 120, 40, 255}, {30, 20, 60, 255}},
}

func (g *threeD) draw(d *drawer, t int) {
	back := xproto.Drawable(g.back)
	pal := palettes[g.palette%len(palettes)]
	secs := float64(t) / 60
	camZ := secs * 24 // fast forward motion
	camX := 8 * math.Sin(secs*0.7)
	yaw := 0.45 * math.Sin(secs*0.9)
	horizon := float64(d.h)*0.42 + 20*math.Sin(secs*2.1)
	f := float64(d.w) * 0.6
	cy, sy := math.Cos(yaw), math.Sin(yaw)
	proj := func(x, y, z float64) (float64, float64, float64) {
		dx, dz := x-camX, z-camZ
		xr, zr := cy*dx-sy*dz, sy*dx+cy*dz
		if zr < 0.01 {
			return 0, 0, zr
		}
		return float64(d.w)/2 + f*xr/zr, horizon + f*(2.2-y)/zr, zr
	}
	// Sky in bands, then the ground.
	bands := 12
	for i := 0; i < bands; i++ {
		y0, y1 := int(horizon)*i/bands, int(horizon)*(i+1)/bands
		d.fillRects(back, lerpColor(pal[2], cWhite, float64(i)/float64(bands)*0.8), image.Rect(0, y0, d.w, y1))
	}
	d.fillRects(back, pal[0], image.Rect(0, int(horizon), d.w, d.h))
	const tile = 4.0
	iz0 := int(math.Floor(camZ/tile)) - 2
	ix0 := int(math.Floor(camX/tile)) - 10
	for iz := iz0 + 14; iz >= iz0; iz-- {
		for ix := ix0; ix < ix0+20; ix++ {
			if (ix+iz)&1 == 0 {
				continue
			}
			x0, z0 := float64(ix)*tile, float64(iz)*tile
			var pts []xproto.Point
			ok := true
			for _, c := range [4][2]float64{{x0, z0}, {x0 + tile, z0}, {x0 + tile, z0 + tile}, {x0, z0 + tile}} {
				sx, syy, zr := proj(c[0], 0, c[1])
				if zr < 0.5 || math.Abs(sx) > 30000 || math.Abs(syy) > 30000 {
					ok = false
					break
				}
				pts = append(pts, xproto.Point{X: int16(sx), Y: int16(syy)})
			}
			if ok {
				d.fillPoly(back, pal[1], pts)
			}
		}
	}
	// Pillars, far to near.
	type vis struct {
		zr  float64
		pts []xproto.Point
		c   color.RGBA
	}
	var vs []vis
	for _, p := range g.pillars {
		z := p.z + math.Floor((camZ-p.z)/worldLoop+1)*worldLoop // the next copy ahead
		_, _, zr := proj(p.x, 0, z)
		if zr < 1 || zr > 70 {
			continue
		}
		var pts []xproto.Point
		for _, c := range [4][2]float64{{p.x - 1, 0}, {p.x + 1, 0}, {p.x + 1, 7}, {p.x - 1, 7}} {
			sx, syy, _ := proj(c[0], c[1], z)
			pts = append(pts, xproto.Point{X: int16(max(min(sx, 30000), -30000)), Y: int16(max(min(syy, 30000), -30000))})
		}
		shade := lerpColor(p.c, pal[2], min(zr/70, 1)*0.7)
		vs = append(vs, vis{zr, pts, shade})
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].zr > vs[j].zr })
	for _, v := range vs {
		d.fillPoly(back, v.c, v.pts)
	}
	d.copyArea(back, xproto.Drawable(d.win), image.Rect(0, 0, d.w, d.h), image.Point{})
}

func (g *threeD) tick(d *drawer, t int) bool {
	g.last = t
	g.draw(d, t)
	return true
}

func (g *threeD) respond(d *drawer, ev inputEvent) {
	g.palette++ // e.g. a muzzle flash or a light switched: the whole scene changes colour
	g.draw(d, g.last)
}

// ---- office typing ----

// typing is a word processor into which text is typed in bursts, with a blinking caret.
type typing struct {
	page      image.Rectangle // text area
	cols      int
	lines     int
	line, col int
	script    string
	pos       int
	next      int
	burst     int
	caretOn   bool
	lastTyped int
}

const lineH = 16

func (ty *typing) setup(d *drawer) error {
	win := xproto.Drawable(d.win)
	d.fillRects(win, color.RGBA{200, 202, 206, 255}, image.Rect(0, 0, d.w, d.h))
	outer := image.Rect(max(d.w/2-480, 10), 10, min(d.w/2+480, d.w-10), d.h-10)
	body := d.frameWindow(win, outer, "Minutes.odt - Writer")
	tool := image.Rect(body.Min.X, body.Min.Y, body.Max.X, body.Min.Y+34)
	d.fillRects(win, cGrey, tool)
	d.text(win, cText, cGrey, tool.Min.X+10, tool.Min.Y+10, "File  Edit  View  Insert  Format   | B  I  U |  Liberation Serif  12")
	ty.page = image.Rect(body.Min.X+40, tool.Max.Y+30, body.Max.X-40, body.Max.Y-20)
	ty.cols = max(ty.page.Dx()/charW, 10)
	ty.lines = max(ty.page.Dy()/lineH, 2)
	var b strings.Builder
	for b.Len() < 20000 {
		b.WriteString(d.sentence(6 + d.rng.IntN(12)))
		if d.rng.IntN(4) == 0 {
			b.WriteString("\n")
		}
	}
	ty.script = b.String()
	ty.next = 30
	ty.burst = 0
	ty.drawCaret(d, true)
	return nil
}

func (ty *typing) cell(line, col int) image.Point {
	return image.Pt(ty.page.Min.X+col*charW, ty.page.Min.Y+line*lineH)
}

func (ty *typing) drawCaret(d *drawer, on bool) {
	p := ty.cell(ty.line, ty.col)
	c := cWhite
	if on {
		c = cBlack
	}
	d.fillRects(xproto.Drawable(d.win), c, image.Rect(p.X, p.Y, p.X+2, p.Y+charH+1))
	ty.caretOn = on
}

func (ty *typing) newline(d *drawer) {
	ty.drawCaret(d, false)
	ty.line++
	ty.col = 0
	if ty.line >= ty.lines { // scroll the text up by a line
		win := xproto.Drawable(d.win)
		d.copyArea(win, win, image.Rect(ty.page.Min.X, ty.page.Min.Y+lineH, ty.page.Max.X, ty.page.Min.Y+ty.lines*lineH), ty.page.Min)
		d.fillRects(win, cWhite, image.Rect(ty.page.Min.X, ty.page.Min.Y+(ty.lines-1)*lineH, ty.page.Max.X, ty.page.Min.Y+ty.lines*lineH))
		ty.line = ty.lines - 1
	}
}

func (ty *typing) put(d *drawer, ch byte) {
	if ch == '\n' || ty.col >= ty.cols {
		ty.newline(d)
		if ch == '\n' {
			ty.drawCaret(d, true)
			return
		}
	}
	if ch == ' ' && ty.col == 0 {
		return
	}
	ty.drawCaret(d, false)
	p := ty.cell(ty.line, ty.col)
	d.text(xproto.Drawable(d.win), cText, cWhite, p.X, p.Y, string(ch))
	ty.col++
	ty.drawCaret(d, true)
}

func (ty *typing) tick(d *drawer, t int) bool {
	if t < ty.next {
		if t-ty.lastTyped > 30 && t%32 == 0 { // the caret blinks while the typist pauses
			ty.drawCaret(d, !ty.caretOn)
			return true
		}
		return false
	}
	if ty.burst <= 0 {
		ty.burst = 3 + d.rng.IntN(20)
	}
	ch := ty.script[ty.pos%len(ty.script)]
	ty.pos++
	// Word wrap: a word that will not fit starts the next line.
	if ch != ' ' && ch != '\n' && ty.col > 0 && ty.script[(ty.pos-2+len(ty.script))%len(ty.script)] == ' ' {
		end := strings.IndexAny(ty.script[(ty.pos-1)%len(ty.script):], " \n")
		if end > 0 && ty.col+end > ty.cols {
			ty.newline(d)
		}
	}
	ty.put(d, ch)
	ty.lastTyped = t
	ty.burst--
	if ty.burst == 0 {
		ty.next = t + 30 + d.rng.IntN(90) // a pause to think
	} else {
		ty.next = t + 5 + d.rng.IntN(5) // about 8 to 12 characters a second
	}
	return true
}

func (ty *typing) respond(d *drawer, ev inputEvent) {
	switch {
	case ev.key && ev.char != 0:
		ty.put(d, ev.char)
	case ev.key:
		ty.put(d, '#')
	default: // a click moves the caret to the start of a new line
		ty.newline(d)
		ty.drawCaret(d, true)
	}
}

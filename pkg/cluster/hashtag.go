package cluster

import (
	"strconv"
	"sync"
)

// HashTag returns a short hash tag whose slot is slot: a key that contains
// "{" + HashTag(slot) + "}" hashes to slot, whatever else it holds. The tags
// are the same on every run (the first base-36 number, counting from 0,
// that CRC16 sends to each slot).
func HashTag(slot int) string { return hashTags()[slot] }

var hashTags = sync.OnceValue(func() *[NumSlots]string {
	var tags [NumSlots]string
	for n, missing := 0, NumSlots; missing > 0; n++ {
		tag := strconv.FormatInt(int64(n), 36)
		if s := crc16String(tag) & (NumSlots - 1); tags[s] == "" {
			tags[s] = tag
			missing--
		}
	}
	return &tags
})

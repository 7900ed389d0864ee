package redistest

import (
	"strconv"
	"strings"
)

// crc16tab is the CRC16-CCITT (XMODEM) table Redis Cluster uses.
var crc16tab = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return
}()

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ crc16tab[byte(crc>>8)^s[i]]
	}
	return crc
}

// KeySlot returns the hash slot of a key (honouring {hash tags}).
func KeySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) & 16383)
}

// KeysInSlot returns n distinct key names "prefix:i" (smallest i first) that
// hash to slot.
func KeysInSlot(slot, n int, prefix string) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		k := prefix + ":" + strconv.Itoa(i)
		if KeySlot(k) == slot {
			out = append(out, k)
		}
	}
	return out
}

// KeyName is the name LoadKeys gives to key i.
func KeyName(prefix string, i int) string { return prefix + ":" + strconv.Itoa(i) }

// KeyValue is the value LoadKeys stores in key i.
func KeyValue(prefix string, i int) string { return "value:" + KeyName(prefix, i) }

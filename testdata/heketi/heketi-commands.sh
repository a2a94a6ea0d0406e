#!/bin/sh
# Heketi's command sequence, as heketi/heketi v10 runs it (executors/cmdexec: device.go
# DeviceSetup, brick.go BrickCreate, volume.go VolumeCreate, peer.go PeerProbe; names
# from pkg/paths/paths.go, the metadata size from apps/glusterfs/device_entry.go, the
# option from apps/glusterfs/volume_entry_create.go). It builds a Heketi-made cluster by
# hand in the lab, with no Heketi server: tests/lab/lab_heketi_v.rs and
# `scripts/capture-testdata heketi` run it over ssh.
#
#   heketi-commands.sh device DEV DEVICEID
#   heketi-commands.sh brick DEVICEID BRICKID SIZE_KIB GID
#   heketi-commands.sh probe HOST
#   heketi-commands.sh volume NAME VOLUMEID REPLICA HOST:BRICK...
#
# Heketi's defaults: pv_data_alignment 256K, vg_physicalextentsize 4M, lv_chunksize 256K,
# mount options rw,inode64,noatime,nouuid, fstab /etc/fstab, backup_lvm_metadata off.
set -eu
case $1 in
device)
	pvcreate -qq --metadatasize=128M --dataalignment=256K "$2"
	vgcreate -qq --physicalextentsize=4M --autobackup=n "vg_$3" "$2"
	;;
brick)
	vg=vg_$2 lv=brick_$3 tp=tp_$3 size=$4 gid=$5
	mnt=/var/lib/heketi/mounts/$vg/$lv
	dev=/dev/mapper/$vg-$lv
	meta=$((size / 200))
	mkdir -p "$mnt"
	lvcreate -qq --autobackup=n --poolmetadatasize "${meta}K" --chunksize 256K \
		--size "${size}K" --thin "$vg/$tp" --virtualsize "${size}K" --name "$lv"
	mkfs.xfs -i size=512 -n size=8192 "$dev" >/dev/null
	awk "BEGIN {print \"$dev $mnt xfs rw,inode64,noatime,nouuid 1 2\" >> \"/etc/fstab\"}"
	mount -o rw,inode64,noatime,nouuid "$dev" "$mnt"
	mkdir "$mnt/brick"
	if [ "$gid" != 0 ]; then
		chown ":$gid" "$mnt/brick"
		chmod 2775 "$mnt/brick"
	fi
	;;
probe)
	gluster --mode=script peer probe "$2" >/dev/null
	;;
volume)
	name=$2 id=$3 replica=$4
	shift 4
	gluster --mode=script volume create "$name" replica "$replica" "$@" >/dev/null
	gluster --mode=script volume set "$name" user.heketi.id "$id" >/dev/null
	gluster --mode=script volume start "$name" >/dev/null
	;;
*)
	echo "usage: $0 device|brick|probe|volume ..." >&2
	exit 64
	;;
esac

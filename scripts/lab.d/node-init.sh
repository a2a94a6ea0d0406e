#!/bin/bash
# Runs as the first process of a tier N node, already inside the node's own network
# namespace and a fresh private mount + UTS namespace (scripts/lab starts it with
# `ip netns exec NS unshare --mount --uts --propagation private`). It gives the node a
# private view of everything brickyard or gluster writes, starts glusterd and sshd, and
# then becomes the node's holder process (sleep), whose PID scripts/lab records.
#   $1 node name  $2 host-side node state dir  $3 address  $4 disk0 loop  $5 disk1 loop
set -euo pipefail
name=$1 d=$2 addr=$3
shift 3
hostname "$name"
# Private /etc (a copy of the host's, prepared by scripts/lab): /etc/fstab, /etc/hostname,
# /etc/hosts, /etc/glusterfs and /etc/ssh belong to the node. A whole directory rather than
# single-file binds, so that tools replacing /etc/fstab by rename work as on a real server.
mount --bind "$d/etc" /etc
mount --bind "$d/glusterd" /var/lib/glusterd
mount --bind "$d/log" /var/log/glusterfs
mount --bind "$d/brickyard" /var/lib/brickyard
mount --bind "$d/bricks" /bricks
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/sshd /run/gluster /run/lock
chmod 755 /run/sshd
i=0
for dev in "$@"; do
    mkdir -p "/bricks/d$i"
    mount -o rw,inode64,noatime "$dev" "/bricks/d$i"
    i=$((i + 1))
done
glusterd -p /run/glusterd.pid
/usr/sbin/sshd -f /etc/ssh/sshd_config -E "$d/sshd.log"
echo $$ > "$d/holder.pid.new"
mv "$d/holder.pid.new" "$d/holder.pid"
exec sleep infinity

# brickyard probe: everything gather needs from one node, in one remote command.
# Sent over stdin to `sh -s -- NONCE ARGS`. NONCE: this run's random marker nonce (hex);
# ARGS: d:<declared device> | p:<declared directory-brick path> | s: (this node reads
# the cluster-wide `volume status` for the cluster: src/gather/status.rs).
#
# STRICTLY READ-ONLY. Nothing here may write on the node:
#  - every command reads stdin from /dev/null (the rest of this script IS our stdin);
#  - gluster CLI: --log-file=/dev/null (no cli.log), read commands only, --mode=script;
#  - LVM: report commands only, --nolocking (no lock files); NOT --readonly, which hides
#    device-mapper status (thin pool Data%/Meta% empty, attr 'XX') - measured on the lab VM;
#  - blkid: -p -c /dev/null (low-level probe, no blkid.tab cache update);
#  - wipefs: --no-act (list mode only).
#
# Output: sections delimited by marker lines, parsed by src/gather/parse/sections.rs:
#   @@brickyard-NONCE@@ begin NAME
#   <stdout of the command, untouched>
#   @@brickyard-NONCE@@ stderr NAME
#   <stderr of the command>
#   @@brickyard-NONCE@@ end NAME rc=N
# A missing tool yields rc=127 in its section; the probe itself still exits 0.
# Command output can contain newlines and marker-like lines (a gluster option value, a
# directory name): only the nonce, unknown to whoever wrote that text, makes a marker,
# and the parser fails the whole probe on any framing it would not print itself.

case ${1-} in
'' | *[!0-9a-f]*)
	echo "brickyard probe: the first argument must be the run's nonce (hex)" >&2
	exit 2
	;;
esac
M="@@brickyard-$1@@"
shift
LC_ALL=C
LANG=C
LVM_SUPPRESS_FD_WARNINGS=1
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export LC_ALL LANG LVM_SUPPRESS_FD_WARNINGS PATH
exec 3>&1

# sec NAME CMD...: run CMD with stdout passed through and stderr captured separately.
# The blank line before the stderr marker is ours: the parser strips exactly one newline.
sec() {
	_n=$1
	shift
	printf '%s begin %s\n' "$M" "$_n"
	_e=$({ "$@" </dev/null 3>&-; } 2>&1 1>&3)
	_rc=$?
	printf '\n%s stderr %s\n' "$M" "$_n"
	[ -n "$_e" ] && printf '%s\n' "$_e"
	printf '%s end %s rc=%s\n' "$M" "$_n" "$_rc"
}

# A hung glusterd must not hang the probe.
T=
command -v timeout >/dev/null 2>&1 && T='timeout 60'
G() { $T gluster --log-file=/dev/null --mode=script "$@"; }
GX() { G --xml "$@"; }

glusterd_pid() {
	for f in /run/glusterd.pid /var/run/glusterd.pid; do
		[ -r "$f" ] || continue
		read -r p <"$f" || continue
		case $p in '' | *[!0-9]*) continue ;; esac
		c=
		[ -r "/proc/$p/comm" ] && read -r c <"/proc/$p/comm"
		if kill -0 "$p" 2>/dev/null; then echo "pid=$p alive=yes comm=$c"; else echo "pid=$p alive=no"; fi
		return 0
	done
	echo "pid="
}

lsblk_json() {
	lsblk -J -b -o NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINTS,RO,PKNAME 2>/dev/null ||
		lsblk -J -b -o NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINT,RO,PKNAME
}

# fstab_lines: the lines brickyard wrote (they name it), and the lines mounting a
# filesystem at or above one of this node's bricks (LB): an adopted brick's, Heketi's.
fstab_lines() {
	[ -r /etc/fstab ] || return 0
	set -f
	while IFS= read -r _l || [ -n "$_l" ]; do
		case $_l in *brickyard*)
			printf '%s\n' "$_l"
			continue
			;;
		esac
		# shellcheck disable=SC2086 # fields, split as fstab(5) splits them
		set -- $_l
		case ${1:-#} in '#'*) continue ;; esac
		[ $# -ge 2 ] || continue
		_t=${2%/}
		[ -n "$_t" ] || continue # the root filesystem holds every brick; it is no brick's
		for _b in $LB; do
			case $_b/ in "$_t"/*)
				printf '%s\n' "$_l"
				break
				;;
			esac
		done
	done </etc/fstab
	set +f
}

# Declared directory-brick path: existence, and the brick directories brickyard may have
# made in it, two levels down (<path>/<vol>/s<N>p<M>): for each its kind (a symlink at
# either level is not a real directory) and its ownership mark, the trusted.* xattr
# brickyard sets right after mkdir (getfattr comes with the attr package, which xfsprogs
# and glusterfs-common pull in). Names and marks with characters brickyard never writes
# are skipped or reported as <unsafe>, so every value stays on its own line. The marks of
# all directories come from one getfattr (a fork per directory cost more than the rest of
# the probe at 100 volumes), as `marked=<dir>` + `mark=<value>` after the listing.
path_facts() {
	if [ ! -d "$1" ]; then
		echo "exists=no"
		return 0
	fi
	echo "exists=yes"
	_p=$1
	set --
	for d in "$_p"/*/s*p*; do
		[ -e "$d" ] || [ -L "$d" ] || continue
		_v=${d%/*}
		case ${_v##*/}/${d##*/} in *[!A-Za-z0-9_./-]*) continue ;; esac
		_ln=0
		[ -L "$_v" ] && _ln=1
		brick_entry "$d" "$_ln" && set -- "$@" "$d"
	done
	marks "$@"
}

# brick_entry DIR LINKED: DIR's listing lines, `brick=DIR` and its type (`symlink` when DIR
# is one or LINKED is 1, i.e. a directory on its way is one); true for a real directory,
# whose mark the caller then reads.
brick_entry() {
	printf 'brick=%s\n' "$1"
	if [ -L "$1" ] || [ "$2" = 1 ]; then
		echo "type=symlink"
		return 1
	elif [ -d "$1" ]; then
		echo "type=directory"
	else
		echo "type=other"
		return 1
	fi
}

# The bricks gluster lists on this node (LB: the paths of volume info's bricks whose
# hostUuid is this glusterd's), in path_facts' form: a brick brickyard adopts lives where
# whoever made it put it, not under a path brickyard derives. A brick reached through a
# symlink anywhere on its path (readlink -m differs from it) is `symlink`; one gather
# cannot see is not listed. One readlink and one getfattr for all of them.
local_bricks() {
	[ -n "$LB" ] || return 0
	# shellcheck disable=SC2086 # LB holds only [A-Za-z0-9_./-] paths, one per line
	set -- $LB
	_r=$(readlink -m -- "$@") || return 1
	_n=$#
	for d in "$@"; do
		_c=${_r%%"
"*}
		_r=${_r#*"
"}
		[ -e "$d" ] || [ -L "$d" ] || continue
		_ln=0
		[ "$_c" != "$d" ] && _ln=1
		brick_entry "$d" "$_ln" && set -- "$@" "$d"
	done
	shift "$_n"
	marks "$@"
}
# LB: this node's brick paths in the volume info text $1 (see local_bricks).
local_brick_paths() {
	_u=
	[ -r /var/lib/glusterd/glusterd.info ] &&
		while IFS='=' read -r _k _w; do [ "$_k" = UUID ] && _u=$_w; done </var/lib/glusterd/glusterd.info
	case $_u in '' | *[!0-9a-f-]*) return 0 ;; esac
	printf '%s\n' "$1" | sed -n "s|.*<name>[^<]*:\(/[^<]*\)</name><hostUuid>$_u</hostUuid>.*|\1|p" |
		grep -E '^/[A-Za-z0-9_./-]*$' | sort -u
}

# marks DIR...: the ownership mark of each directory, as `marked=DIR` + `mark=VALUE`.
marks() {
	[ $# -gt 0 ] || return 0
	# -e text: the value in double quotes, anything unusual escaped with a backslash
	getfattr -n trusted.brickyard.brick -e text --absolute-names -- "$@" 2>/dev/null |
		while IFS= read -r _l; do
			case $_l in
			'# file: '*) printf 'marked=%s\n' "${_l#'# file: '}" ;;
			trusted.brickyard.brick=*)
				_m=${_l#trusted.brickyard.brick=}
				case $_m in
				'""') ;;
				\"*\")
					_m=${_m#\"}
					_m=${_m%\"}
					case $_m in
					*[!A-Za-z0-9_.=/-]*) echo "mark=<unsafe>" ;;
					*) printf 'mark=%s\n' "$_m" ;;
					esac
					;;
				*) echo "mark=<unsafe>" ;;
				esac
				;;
			esac
		done
	return 0
}

# The cluster's rebalance and remove-brick tasks (`volume status all tasks`, section
# volume_tasks), and for each task still to follow its counts, one section `task:VOL`:
# `rebalance VOL status`, or `remove-brick VOL BRICKS status` for the bricks the task
# lists. A completed rebalance is not asked again (its numbers change nothing brickyard
# does); a remove-brick is, in every state: its commit waits for 0 failures and 0 skipped.
# The XML has one element per line; names with characters gluster never prints in a
# volume or brick name are skipped (the parser then says the task's counts are unknown).
volume_tasks() {
	_t=$(GX volume status all tasks 2>&1)
	sec volume_tasks replay "$?" "$_t"
	printf '%s\n' "$_t" | awk '
		/<volName>/ { v = $0; gsub(/^[ \t]*<volName>|<\/volName>.*$/, "", v) }
		/<task>/ { k = ""; st = ""; b = "" }
		/<type>/ { k = $0; gsub(/^[ \t]*<type>|<\/type>.*$/, "", k) }
		/<statusStr>/ { st = $0; gsub(/^[ \t]*<statusStr>|<\/statusStr>.*$/, "", st) }
		/<brick>/ { x = $0; gsub(/^[ \t]*<brick>|<\/brick>.*$/, "", x); b = b " " x }
		/<\/task>/ {
			if (k == "Rebalance" && st != "completed") print "rb " v
			else if (k == "Remove brick") print "rm " v b
		}' | while read -r _k _v _b; do
		case $_v in '' | *[!A-Za-z0-9_.-]*) continue ;; esac
		case $_b in *[!A-Za-z0-9_.:/\ -]*) continue ;; esac
		case $_k in
		rb) sec "task:$_v" GX volume rebalance "$_v" status ;;
		# shellcheck disable=SC2086 # the brick list splits on the spaces awk put there
		rm) sec "task:$_v" GX volume remove-brick "$_v" $_b status ;;
		esac
	done
}
# replay RC TEXT: print TEXT and return RC (a read already made, framed as a section).
replay() {
	printf '%s\n' "$2"
	return "$1"
}

# The cluster identity record: its text, nothing when absent; an empty or unreadable
# record fails the section (the identity is then unknown, not absent).
cluster_id_facts() {
	[ -e /var/lib/brickyard/cluster-id ] || [ -L /var/lib/brickyard/cluster-id ] || return 0
	[ -s /var/lib/brickyard/cluster-id ] || { echo "/var/lib/brickyard/cluster-id is empty or unreadable" >&2; return 1; }
	cat /var/lib/brickyard/cluster-id
}

lock_facts() {
	if [ -d /var/lib/brickyard/lock ]; then
		echo "dir=yes"
		[ -r /var/lib/brickyard/lock/holder ] && cat /var/lib/brickyard/lock/holder
	else
		echo "dir=no"
	fi
	return 0
}

# Heal index of every brick brickyard may have made on this node (LVM bricks under the
# mount root, directory bricks under the declared paths given as arguments) and of every
# brick gluster lists here (LB, adopted ones included), each once: the gfid
# entries in <brick>/.glusterfs/indices/{xattrop,dirty,entry-changes}, where the index
# translator records what `heal info` then reports as pending. Read from the local
# filesystem, so the cost grows with this node's bricks, not with the cluster's volumes,
# and with one find for all of them (a find per brick cost ~1 s at 100 bricks). The
# index's own base files (xattrop-<uuid>, dirty-<uuid>) are not entries.
heal_index() {
	_n=$#
	for _b in /var/lib/brickyard/mounts/*/*/brick; do heal_brick "$_b" && set -- "$@" "$_b"; done
	for _a in "$@"; do
		case $_a in p:/*) for _b in "${_a#p:}"/*/s*p*; do heal_brick "$_b" && set -- "$@" "$_b"; done ;; esac
	done
	# shellcheck disable=SC2086 # see local_bricks
	for _b in $LB; do
		case " $* " in *" $_b "*) continue ;; esac
		heal_brick "$_b" && set -- "$@" "$_b"
	done
	shift "$_n"
	[ $# -gt 0 ] || return 0
	{
		_n=$#
		for _b in "$@"; do
			printf 'B %s\n' "$_b"
			set -- "$@" "$_b/.glusterfs/indices/xattrop" "$_b/.glusterfs/indices/dirty" \
				"$_b/.glusterfs/indices/entry-changes"
		done
		shift "$_n"
		find "$@" -mindepth 1 -maxdepth 1 -name '????????-????-????-????-????????????' 2>/dev/null |
			sed 's/^/E /'
	} | awk '$1 == "B" { b[++n] = substr($0, 3); next }
		$1 == "E" { d = substr($0, 3); sub("/[.]glusterfs/indices/[^/]*/[^/]*$", "", d); c[d]++ }
		END { for (i = 1; i <= n; i++) printf "brick=%s pending=%d\n", b[i], c[b[i]] + 0 }'
	return 0
}
# heal_brick B: B is a real directory brick with a heal index, named only with safe characters.
heal_brick() {
	[ -d "$1/.glusterfs/indices" ] && [ ! -L "$1" ] || return 1
	case $1 in *[!A-Za-z0-9_./-]*) return 1 ;; esac
	return 0
}

LVMOPTS='--nolocking --reportformat json --units b --nosuffix'

printf '%s probe 1\n' "$M"
sec hostname uname -n
sec kernel uname -r
sec glusterd_info cat /var/lib/glusterd/glusterd.info
sec gluster_version gluster --version
sec lvm_version lvm version
sec glusterd_pid glusterd_pid
sec pool_list GX pool list
_vi=$(GX volume info all 2>&1)
sec volume_info replay "$?" "$_vi"
LB=$(local_brick_paths "$_vi")
unset _vi
for a in "$@"; do
	[ "$a" = s: ] && {
		sec volume_status GX volume status all detail
		volume_tasks
	}
done
sec lsblk lsblk_json
sec pvs lvm pvs $LVMOPTS -o pv_name,vg_name,pv_size,pv_free,pv_tags,pv_uuid
sec vgs lvm vgs $LVMOPTS -o vg_name,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count,vg_tags
sec lvs lvm lvs $LVMOPTS -o lv_name,vg_name,lv_size,lv_attr,pool_lv,data_percent,metadata_percent,lv_metadata_size,lv_tags,lv_path
sec findmnt findmnt -J -l -b -o TARGET,SOURCE,FSTYPE,OPTIONS
sec findmnt_df findmnt -J -l -b -t xfs,ext4,ext3,ext2,btrfs -o TARGET,SIZE,AVAIL
sec fstab fstab_lines
sec cluster_id cluster_id_facts
sec lock lock_facts
sec heal_index heal_index "$@"
sec local_bricks local_bricks
for a in "$@"; do
	case $a in
	d:/*)
		sec "wipefs:${a#d:}" wipefs --no-act -J "${a#d:}"
		sec "blkid:${a#d:}" blkid -c /dev/null -p -o export "${a#d:}"
		;;
	p:/*)
		sec "path:${a#p:}" path_facts "${a#p:}"
		sec "pathfs:${a#p:}" findmnt -J -b -T "${a#p:}" -o TARGET,SOURCE,FSTYPE
		sec "df:${a#p:}" df -B1 --output=size,avail,target "${a#p:}"
		;;
	esac
done
printf '%s done\n' "$M"
exit 0

# Erasure coding 4+2: any two of the six bricks of a set may fail; 2/3 of raw
# space is usable. Needs six nodes, in six zones with strict zone checking.
cluster = "archive"

placement {
  zone_checking = "strict"
}

node "e1" {
  manage  = "10.20.0.1"
  zone    = 1
  devices = ["/dev/sdb"]
}
node "e2" {
  manage  = "10.20.0.2"
  zone    = 2
  devices = ["/dev/sdb"]
}
node "e3" {
  manage  = "10.20.0.3"
  zone    = 3
  devices = ["/dev/sdb"]
}
node "e4" {
  manage  = "10.20.0.4"
  zone    = 4
  devices = ["/dev/sdb"]
}
node "e5" {
  manage  = "10.20.0.5"
  zone    = 5
  devices = ["/dev/sdb"]
}
node "e6" {
  manage  = "10.20.0.6"
  zone    = 6
  devices = ["/dev/sdb"]
}

volume "cold" {
  size            = "20TiB"
  durability      = { type = "disperse", data = 4, redundancy = 2 }
  snapshot_factor = 1
}

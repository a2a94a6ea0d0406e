# The test lab's three namespace nodes (`sudo scripts/lab up n`, docs/testing.md):
# directory bricks on /bricks. The key and known_hosts are the ones the lab writes.
cluster = "lab"

ssh {
  user          = "root"
  identity_file = "/var/tmp/brickyard-lab/0/id_ed25519"
  known_hosts   = "strict"
  options       = ["UserKnownHostsFile=/var/tmp/brickyard-lab/0/known_hosts"]
}

node "n1" {
  manage = "10.99.0.11"
  zone   = 1
  paths  = ["/bricks/d0", "/bricks/d1"]
}
node "n2" {
  manage = "10.99.0.12"
  zone   = 2
  paths  = ["/bricks/d0", "/bricks/d1"]
}
node "n3" {
  manage = "10.99.0.13"
  zone   = 3
  paths  = ["/bricks/d0", "/bricks/d1"]
}

volume "labvol" {
  size       = "1GiB"
  durability = { type = "replicate", replica = 3 }
}

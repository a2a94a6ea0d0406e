cluster = "prod"
placement {
  zone_checking = "none"
}
node "a" {
  manage  = "10.0.0.1"
  devices = ["/dev/sdb"]
}
node "b" {
  manage  = "10.0.0.2"
  devices = ["/dev/sdb"]
}
node "c" {
  manage  = "10.0.0.3"
  devices = ["/dev/sdb"]
}
node "d" {
  manage  = "10.0.0.4"
  devices = ["/dev/sdb"]
}
volume "ec" {
  size       = "1TiB"
  durability = { type = "disperse", data = 3, redundancy = 1 }
}

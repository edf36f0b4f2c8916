"""Chapter 5 — pod networking in depth: a pod's network namespace seen from inside and from its node, a
connectivity walk (pod → veth → node route → other node) with a route broken on purpose, a bounded packet
capture, and multi-container pods (shared namespace, localhost, port conflicts, an Istio-style sidecar)."""
from build import code, md

CELLS = [
    md(fr="""
# Chapitre 5 — Le réseau d'un pod, vu de près

Au chapitre 3, nous avons suivi le plugin CNI pendant qu'il branchait un pod : une adresse, une paire
veth, des routes. Ce chapitre prend le temps de regarder ce câblage de près, avec les commandes que
l'on tape vraiment quand quelque chose ne marche pas.

**À la fin de ce chapitre, vous saurez :**
- lire l'espace de noms réseau d'un pod de l'intérieur : interfaces, routes, résolveur, ports en écoute ;
- retrouver ce même espace de noms depuis le nœud (`ip netns`), et le bout de la paire veth qui lui correspond ;
- suivre pas à pas le chemin d'un paquet d'un pod vers un pod d'un autre nœud, et repérer le maillon cassé ;
- capturer quelques paquets, de façon bornée, pour vérifier qu'ils portent les vraies adresses des pods ;
- expliquer ce que partagent les conteneurs d'un même pod (une adresse, des ports, `localhost`) et ce
  que cela permet à un sidecar comme celui d'Istio.
""", en="""
# Chapter 5 — Pod networking, up close

In chapter 3 we watched the CNI plugin wire up a pod: an address, a veth pair, some routes. This
chapter takes its time over that wiring, with the commands you actually type when something is
broken.

**By the end of this chapter you will be able to:**
- read a pod's network namespace from the inside: interfaces, routes, resolver, listening ports;
- find the same namespace from the node (`ip netns`), and the end of the veth pair that belongs to it;
- follow a packet step by step from a pod to a pod on another node, and spot the broken link;
- capture a handful of packets, in a bounded way, to check that they carry the pods' real addresses;
- explain what the containers of one pod share (one address, one set of ports, `localhost`) and what
  that lets a sidecar such as Istio's do.
"""),
    md(fr="""
## Démarrer le laboratoire

Un cluster propre, puis les quatre manifestes de `manifests/05-pod-networking/` : deux pods nginx
(`nginx-pod` et `web-frontend-pod`), un pod `api-service` à deux conteneurs façon Istio, et `app-pod`,
une application accompagnée d'un sidecar qui relit ses journaux.
""", en="""
## Start the lab

A clean cluster, then the four manifests of `manifests/05-pod-networking/`: two nginx pods
(`nginx-pod` and `web-frontend-pod`), an Istio-style two-container pod `api-service`, and `app-pod`,
an application with a sidecar that reads its logs.
"""),
    code("""
from k8snet_tutorial import Lab
from k8snet_tutorial.i18n import say

lab = Lab.up(fresh=True)
lab.apply("manifests/05-pod-networking/")
"""),
    code("""
lab.kubectl("get pods -o wide")
"""),
    md(fr="""
## Partie 1 — Dans l'espace de noms réseau d'un pod

Chaque pod reçoit son propre **espace de noms réseau** Linux : ses interfaces, sa table de routage, ses
ports, à lui seul. `kubectl exec web-frontend-pod -- ip addr` y exécute `ip` ; ici, `lab.exec` fait la
même chose. On se limite à IPv4 (`-4`) : le laboratoire n'a pas d'adresses IPv6 de pods.
""", en="""
## Part 1 — Inside a pod's network namespace

Every pod gets a Linux **network namespace** of its own: its own interfaces, routing table and ports.
`kubectl exec web-frontend-pod -- ip addr` runs `ip` in there; here `lab.exec` does the same. We stick
to IPv4 (`-4`): the lab gives pods no IPv6 addresses.
"""),
    code("""
lab.exec("web-frontend-pod", "ip -4 addr")
"""),
    md(fr="""
Deux interfaces, pas une de plus. `lo`, la boucle locale, propre au pod. Et `eth0@if4` : l'un des
bouts d'une paire veth, avec l'adresse du pod en `/24`, la tranche de son nœud. Le suffixe `@if4` dit
que l'autre bout est l'interface numéro 4 d'un autre espace de noms (`link-netnsid 0`) : celui du
nœud. Les routes maintenant, puis le résolveur DNS et les ports ouverts :
""", en="""
Two interfaces, not one more. `lo`, the loopback, private to the pod. And `eth0@if4`: one end of a
veth pair, carrying the pod's address as a `/24`, its node's slice. The `@if4` suffix says the other
end is interface number 4 in another namespace (`link-netnsid 0`): the node's. Now the routes, then
the DNS resolver and the open ports:
"""),
    code("""
lab.exec("web-frontend-pod", "ip route")
"""),
    code("""
lab.exec("web-frontend-pod", "cat /etc/resolv.conf")
"""),
    code("""
lab.exec("web-frontend-pod", "ss -ltn")
"""),
    md(fr="""
Tout sort par la passerelle `.1` de la tranche, joignable directement par `eth0`. Le résolveur est le
DNS du cluster (10.96.0.10, avec la liste de recherche du chapitre 4). Et un seul port écoute : le 80
de nginx, sur `0.0.0.0`, c'est-à-dire sur toutes les adresses **du pod**, pas du nœud. Vérifions-le
par le code, pour qu'un laboratoire cassé se signale tout de suite :
""", en="""
Everything leaves through the slice's `.1` gateway, reachable straight through `eth0`. The resolver
is the cluster DNS (10.96.0.10, with chapter 4's search path). And one port is listening: nginx's 80,
on `0.0.0.0`, meaning every address **of the pod**, not of the node. Let us check it in code, so that
a broken lab says so at once:
"""),
    code("""
import ipaddress
import re

pods = {p["metadata"]["name"]: p for p in lab.pods()}
web = pods["web-frontend-pod"]
web_ip, web_node = web["status"]["podIP"], web["spec"]["nodeName"]
node_cidr = next(n["spec"]["podCIDR"] for n in lab.objects("Node") if n["metadata"]["name"] == web_node)
gateway = str(ipaddress.ip_network(node_cidr)[1])

assert f"inet {web_ip}/24" in lab.exec("web-frontend-pod", "ip -4 addr show eth0").stdout
assert f"default via {gateway} dev eth0" in lab.exec("web-frontend-pod", "ip route").stdout
assert "nameserver 10.96.0.10" in lab.exec("web-frontend-pod", "cat /etc/resolv.conf").stdout
assert re.search(r"LISTEN .* 0\\.0\\.0\\.0:80 ", lab.exec("web-frontend-pod", "ss -ltn").stdout)
print(f"web-frontend-pod: {web_ip} @ {web_node} (podCIDR {node_cidr}, gateway {gateway})")
"""),
    md(fr="""
## Partie 2 — Le même pod, vu depuis son nœud

Passons de l'autre côté du câble. Sur un vrai cluster, on se connecte au nœud (`ssh` puis `sudo` ; sur
kind, `docker exec -it k8snet-worker2 bash`). Le runtime de conteneurs y épingle l'espace de noms de
chaque pod sous `/run/netns`, avec un nom en `cni-…`, et `ip netns list` les montre :
""", en="""
Now to the other end of the cable. On a real cluster you log in to the node (`ssh`, then `sudo`; on
kind, `docker exec -it k8snet-worker2 bash`). The container runtime pins every pod's namespace under
`/run/netns`, with a `cni-…` name, and `ip netns list` shows them:
"""),
    code("""
lab.node_exec(web_node, "ip netns list")
"""),
    md(fr="""
Un espace de noms par pod de ce nœud. Lequel est celui de `web-frontend-pod` ? `ip -n NOM …` exécute
`ip` dans un espace de noms donné, sans y entrer : il suffit de chercher celui dont l'`eth0` porte
l'adresse du pod.
""", en="""
One namespace per pod on this node. Which one is `web-frontend-pod`'s? `ip -n NAME …` runs `ip` in a
given namespace without entering it: we just look for the one whose `eth0` holds the pod's address.
"""),
    code("""
netns_names = [line.split()[0] for line in lab.node_exec(web_node, "ip netns list").stdout.splitlines()]
web_netns = next(ns for ns in netns_names
                 if f"{web_ip}/24" in lab.node_exec(web_node, f"ip -n {ns} -4 -brief addr show eth0").stdout)
print(web_netns)
lab.node_exec(web_node, f"ip -n {web_netns} -4 -brief addr")
"""),
    md(fr="""
C'est bien lui : vu du nœud, on lit les mêmes interfaces que depuis le pod. Reste le bout côté nœud de
la paire veth. `ip link show type veth` liste les veth du nœud avec leur **index** en tête de ligne ;
celui du pod est le numéro annoncé par `eth0@if4`.
""", en="""
That is the one: seen from the node, we read the same interfaces as from inside the pod. What is left
is the node's end of the veth pair. `ip link show type veth` lists the node's veths with their
**index** at the start of each line; the pod's is the number that `eth0@if4` announced.
"""),
    code("""
lab.node_exec(web_node, "ip -o link show type veth")
"""),
    code("""
LINK = re.compile(r"^(\\d+): ([\\w.-]+)@if(\\d+):", re.M)  # "4: veth1906ffbe@if2: <…"

def veth_pairs(text):
    \"\"\"{interface name: (its index, its peer's index)} from `ip -o link` output.\"\"\"
    return {name: (int(index), int(peer)) for index, name, peer in LINK.findall(text)}

eth0_index, peer_index = veth_pairs(lab.exec("web-frontend-pod", "ip -o link show eth0").stdout)["eth0"]
node_links = veth_pairs(lab.node_exec(web_node, "ip -o link show type veth").stdout)
web_veth = next(name for name, (index, _) in node_links.items() if index == peer_index)
assert node_links[web_veth][1] == eth0_index
assert f"link-netns {web_netns}" in lab.node_exec(web_node, f"ip -o link show {web_veth}").stdout
print(f"web-frontend-pod eth0 (ifindex {eth0_index}) <-> {web_node} {web_veth} (ifindex {peer_index}, netns {web_netns})")
"""),
    md(fr="""
Le câble est identifié aux deux bouts, et `link-netns` confirme que ce veth mène bien à l'espace de
noms trouvé plus haut. Dernière pièce sur le nœud : la route qui envoie vers ce veth le trafic destiné
au pod. C'est une route `/32`, une par pod local, `scope host` :
""", en="""
The cable is identified at both ends, and `link-netns` confirms this veth leads to the namespace we
found above. Last piece on the node: the route that sends traffic for the pod down this veth. It is
a `/32` route, one per local pod, `scope host`:
"""),
    code("""
node_routes = lab.node_exec(web_node, "ip route").stdout
print(node_routes)
assert f"{web_ip} dev {web_veth} scope host" in node_routes
"""),
    md(fr="""
Voici le tout en image : chaque nœud avec son adresse, sa tranche et ses pods.
""", en="""
Here is the whole picture: every node with its address, its slice and its pods.
"""),
    code("""
lab.diagram()
"""),
    md(fr="""
## Partie 3 — Scénario de dépannage : « mon pod n'atteint pas X »

`web-frontend-pod` doit parler à `nginx-pod`, qui tourne sur un autre nœud. Quand ça ne passe pas, on
suit le paquet **maillon par maillon** plutôt que de deviner. `ip route get ADRESSE` est l'outil
idéal : il demande au noyau quelle route il prendrait vraiment, à chaque étape.

1. **Dans le pod** : le paquet doit partir vers la passerelle, par `eth0`.
2. **Sur le nœud du pod** : il arrive par le veth ; la route de la tranche de l'autre nœud doit l'envoyer
   vers l'adresse de ce nœud.
3. **Sur le nœud de destination** : la route `/32` doit le remettre au veth du pod visé.
""", en="""
## Part 3 — Troubleshooting scenario: "my pod cannot reach X"

`web-frontend-pod` needs to talk to `nginx-pod`, which runs on another node. When it does not work,
follow the packet **one hop at a time** instead of guessing. `ip route get ADDRESS` is the right tool:
it asks the kernel which route it would really take, at each step.

1. **In the pod**: the packet must leave towards the gateway, through `eth0`.
2. **On the pod's node**: it comes in through the veth; the route for the other node's slice must send
   it to that node's address.
3. **On the destination node**: the `/32` route must hand it to the target pod's veth.
"""),
    code("""
nginx = pods["nginx-pod"]
nginx_ip, nginx_node = nginx["status"]["podIP"], nginx["spec"]["nodeName"]
assert nginx_node != web_node, "the scenario needs the two pods on different nodes"
node_ip = {n["metadata"]["name"]: next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP")
           for n in lab.objects("Node")}

print("1. web-frontend-pod:", lab.exec("web-frontend-pod", f"ip route get {nginx_ip}").stdout.splitlines()[0])
print(f"2. {web_node}:", lab.node_exec(web_node, f"ip route get {nginx_ip}").stdout.splitlines()[0])
print(f"3. {nginx_node}:", lab.node_exec(nginx_node, f"ip route get {nginx_ip}").stdout.splitlines()[0])
"""),
    code("""
assert f"via {gateway} dev eth0" in lab.exec("web-frontend-pod", f"ip route get {nginx_ip}").stdout
assert f"via {node_ip[nginx_node]} dev eth0" in lab.node_exec(web_node, f"ip route get {nginx_ip}").stdout
assert re.search(rf"^{re.escape(nginx_ip)} dev veth\\w+ ", lab.node_exec(nginx_node, f"ip route get {nginx_ip}").stdout)
probe = lab.probe("web-frontend-pod", "nginx-pod")
print(probe.summary(timing=False))
assert probe.ok and probe.seen_source == web_ip
"""),
    md(fr="""
Chaque maillon tient, et la sonde le confirme : `nginx-pod` a vu arriver l'adresse **réelle** de
`web-frontend-pod`, sans NAT en route. Cassons maintenant un maillon exprès : retirons du nœud de
`web-frontend-pod` la route vers la tranche de l'autre nœud (c'est ce qui arrive quand le plugin CNI
d'un nœud est en panne, ou qu'une route annoncée par BGP disparaît).
""", en="""
Every hop holds, and the probe agrees: `nginx-pod` saw `web-frontend-pod`'s **real** address arrive,
with no NAT on the way. Now let us break one hop on purpose: remove, from `web-frontend-pod`'s node,
the route to the other node's slice (which is what happens when a node's CNI plugin is down, or when a
route announced over BGP disappears).
"""),
    code("""
nginx_cidr = next(n["spec"]["podCIDR"] for n in lab.objects("Node") if n["metadata"]["name"] == nginx_node)
lab.node_exec(web_node, f"ip route del {nginx_cidr}")

broken = lab.probe("web-frontend-pod", "nginx-pod", timeout=1)
print(broken.summary(timing=False))
print(f"{web_node}:", lab.node_exec(web_node, f"ip route get {nginx_ip}").stdout.splitlines()[0])
assert not broken.ok
"""),
    md(fr="""
Le pod n'y est pour rien : son `eth0` et sa route par défaut sont intacts. C'est le nœud qui, faute de
route précise, envoie le paquet vers sa propre route par défaut, où personne ne connaît les adresses
de pods : le paquet se perd et la connexion expire. `ip route get` sur le nœud désigne le coupable.
Remettons la route, telle que le plugin CNI l'avait posée :
""", en="""
The pod is not to blame: its `eth0` and its default route are untouched. It is the node that, lacking
a specific route, sends the packet to its own default route, where nobody knows pod addresses: the
packet is lost and the connection times out. `ip route get` on the node points at the culprit. Let us
put the route back, as the CNI plugin had laid it down:
"""),
    code("""
lab.node_exec(web_node, f"ip route add {nginx_cidr} via {node_ip[nginx_node]} dev eth0")
fixed = lab.probe("web-frontend-pod", "nginx-pod")
print(fixed.summary(timing=False))
assert fixed.ok and lab.node_exec(web_node, "ip route").stdout == node_routes
"""),
    md(fr="""
## Partie 4 — Regarder passer les paquets

Pour trancher un doute (« le paquet part-il vraiment ? avec quelle adresse ? »), rien ne vaut une
**capture de paquets**. Sur kind ou sur un vrai nœud, on lance `tcpdump` dans le pod ou sur le veth du
nœud, **toujours borné** (un nombre de paquets, une durée), pendant qu'une requête part :

```bash
kubectl exec web-frontend-pod -- sh -c 'timeout 5 tcpdump -c 2 -nn -l -i eth0 "tcp port 80 and tcp[tcpflags] & tcp-syn != 0" & sleep 1; curl -s -m 2 http://10.244.1.2/ >/dev/null; wait'
```

Faisons exactement cela : `tcpdump` est le vrai, celui de la machine, lancé dans l'espace de noms réseau
du pod. Sa sortie commence par l'heure et le port éphémère du client, qui changent à chaque fois : on
l'affiche telle quelle, puis on vérifie les adresses.
""", en="""
## Part 4 — Watching the packets go by

To settle a doubt ("does the packet really leave? with which address?"), nothing beats a **packet
capture**. On kind or on a real node you run `tcpdump` in the pod or on the node's veth, **always
bounded** (a packet count, a time limit), while a request goes out:

```bash
kubectl exec web-frontend-pod -- sh -c 'timeout 5 tcpdump -c 2 -nn -l -i eth0 "tcp port 80 and tcp[tcpflags] & tcp-syn != 0" & sleep 1; curl -s -m 2 http://10.244.1.2/ >/dev/null; wait'
```

Let us do exactly that: `tcpdump` here is the real one, the machine's own, run inside the pod's network
namespace. Its output starts with the time and the client's ephemeral port, which change every time: we
show it as it is, then check the addresses.
"""),
    code("""
syn_only = "tcp port 80 and tcp[tcpflags] & tcp-syn != 0"
command = (f"timeout 5 tcpdump -c 2 -nn -l -i eth0 '{syn_only}' 2>/dev/null & "
           f"sleep 1; curl -s -m 2 -o /dev/null http://{nginx_ip}/; wait")
capture = lab.exec("web-frontend-pod", ["sh", "-c", command])
print(capture.stdout)
""", "nbval-ignore-output"),
    code("""
import re

packets = [re.search(r"IP (\\S+) > (\\S+): Flags \\[(S\\.?)\\]", line) for line in capture.stdout.splitlines()]
seen = [(m.group(1).rsplit(".", 1)[0], m.group(2).rsplit(".", 1)[0], "SYN-ACK" if m.group(3) == "S." else "SYN")
        for m in packets if m]
for src, dst, kind in seen:
    print(src, ">", dst, kind)
assert seen == [(web_ip, nginx_ip, "SYN"), (nginx_ip, web_ip, "SYN-ACK")]
"""),
    md(fr="""
Sur le fil, les deux paquets portent les adresses des **pods** eux-mêmes, dans les deux sens : ni
l'adresse d'un nœud, ni une adresse traduite. C'est la promesse « pas de NAT entre pods » du
chapitre 1, vue au niveau du paquet.

## Partie 5 — Plusieurs conteneurs, un seul réseau

Un pod peut contenir plusieurs conteneurs, et ils **partagent le même espace de noms réseau** : une
seule adresse IP, un seul jeu de ports, une seule boucle locale. `app-pod` en a deux : `app` écrit son
journal dans un volume partagé, `log-forwarder` le relit (et l'enverrait à un service central). Chaque
processus peut dire dans quel espace de noms réseau il vit, avec `readlink /proc/self/ns/net` ; comparons
les deux conteneurs (le numéro lui-même change d'une exécution à l'autre, on ne l'affiche donc pas) :
""", en="""
On the wire, both packets carry the **pods'** own addresses, both ways: not a node's address, not a
translated one. That is chapter 1's "no NAT between pods" promise, seen at the packet level.

## Part 5 — Several containers, one network

A pod may hold several containers, and they **share one network namespace**: one IP address, one set
of ports, one loopback. `app-pod` has two: `app` writes its log into a shared volume, `log-forwarder`
reads it back (and would ship it to a central service). Every process can tell which network
namespace it lives in, with `readlink /proc/self/ns/net`; let us compare the two containers (the
number itself changes from run to run, so we do not print it):
"""),
    code("""
def netns_of(pod, container):
    return lab.exec(pod, "readlink /proc/self/ns/net", container=container).stdout.strip()

same = netns_of("app-pod", "app") == netns_of("app-pod", "log-forwarder")
assert same
say(fr="app et log-forwarder : le même espace de noms réseau.", en="app and log-forwarder: the same network namespace.")
assert netns_of("app-pod", "app") != netns_of("web-frontend-pod", None), "each pod has a namespace of its own"
for container in ("app", "log-forwarder"):
    print(f"{container:>13}:", lab.exec("app-pod", "ip -4 -brief addr show eth0", container=container).stdout.strip())
print(lab.exec("app-pod", "head -1 /var/log/app/application.log", container="log-forwarder").stdout)
"""),
    md(fr="""
Même espace de noms, donc même `eth0` et même adresse ; et la dernière ligne montre l'autre chose qu'ils
partagent ici, le volume `emptyDir` où passe le journal.

### Scénario : un sidecar de service mesh, façon Istio

Avec Istio, chaque pod reçoit un conteneur de plus, `istio-proxy` (Envoy), injecté automatiquement. Le
manifeste `service-mesh-sidecar.yaml` le déclare à la main : `api-app` sert l'application sur 8080,
`istio-proxy` écoute sur 15001 (trafic sortant) et 15006 (trafic entrant). Deux conteneurs, un pod :
""", en="""
Same namespace, hence the same `eth0` and the same address; and the last line shows the other thing
they share here, the `emptyDir` volume the log goes through.

### Scenario: a service-mesh sidecar, Istio style

With Istio, every pod gets one more container, `istio-proxy` (Envoy), injected automatically. The
manifest `service-mesh-sidecar.yaml` declares it by hand: `api-app` serves the application on 8080,
`istio-proxy` listens on 15001 (outbound traffic) and 15006 (inbound traffic). Two containers, one pod:
"""),
    code("""
api = next(p for p in lab.pods() if p["metadata"]["name"] == "api-service")
for c in api["spec"]["containers"]:
    print(f"{c['name']:<12} {c['image']:<42} ports {[p['containerPort'] for p in c['ports']]}")
print(f"pod IP: {api['status']['podIP']}")
"""),
    md(fr="""
Depuis le conteneur `istio-proxy`, `ss -ltn` montre **tous** les ports en écoute du pod, y compris le
8080 de l'application : il n'y a qu'un jeu de ports pour tout le monde. Et `curl localhost:8080`, lancé
depuis le proxy, atteint l'application par la boucle locale partagée :
""", en="""
From the `istio-proxy` container, `ss -ltn` shows **every** listening port of the pod, the
application's 8080 included: there is one set of ports for everybody. And `curl localhost:8080`, run
from the proxy, reaches the application over the shared loopback:
"""),
    code("""
listening = lab.exec("api-service", "ss -ltn", container="istio-proxy").stdout.splitlines()
# ss lists sockets in its own, changing order: sort them by port to read them more easily
print("\\n".join(listening[:1] + sorted(listening[1:], key=lambda line: int(line.split()[3].rsplit(":", 1)[1]))))
assert {int(line.split()[3].rsplit(":", 1)[1]) for line in listening[1:]} == {8080, 15001, 15006}
"""),
    code("""
local = lab.exec("api-service", "curl -s -m 2 http://localhost:8080/", container="istio-proxy")
print(local.stdout)
assert local.ok and local.stdout.startswith("pod=api-service ") and "client=127.0.0.1:" in local.stdout
assert netns_of("api-service", "api-app") == netns_of("api-service", "istio-proxy")
"""),
    md(fr="""
L'application a vu la requête venir de `127.0.0.1` : le paquet n'a jamais quitté le pod, ni même touché
`eth0`.

Revers de la médaille : deux conteneurs d'un même pod **ne peuvent pas écouter sur le même port**.
Essayons d'ouvrir le port 8080 depuis le conteneur du proxy, comme le ferait un second serveur mal
configuré :
""", en="""
The application saw the request come from `127.0.0.1`: the packet never left the pod, never even
touched `eth0`.

The flip side: two containers in one pod **cannot listen on the same port**. Let us try to open port
8080 from the proxy's container, as a second, badly configured server would:
"""),
    code("""
bind = lab.exec("api-service", ["python3", "-c", "import socket; socket.socket().bind(('0.0.0.0', 8080))"],
                container="istio-proxy")
print(bind.stderr.strip().splitlines()[-1])
assert not bind.ok and "Address already in use" in bind.stderr
"""),
    md(fr="""
`Address already in use` : le port appartient déjà à `api-app`. Dans un vrai pod, le conteneur fautif
planterait au démarrage et redémarrerait en boucle (`CrashLoopBackOff`). C'est pourquoi Istio réserve
à Envoy des ports de la plage 15000–15090 que les applications n'utilisent pas.

**Ce que le bac à sable montre, et ce qu'il ne montre pas.** Ici, `istio-proxy` n'est pas un vrai
Envoy : c'est un simple écouteur TCP sur ses ports déclarés (la règle des images du bac à sable). Il
accepte les connexions, mais ne parle pas HTTP et ne relaie rien vers l'application. Et la pièce
maîtresse d'Istio manque : le conteneur d'initialisation `istio-init` qui pose, dans l'espace de noms
du pod, des règles iptables renvoyant tout le trafic entrant vers 15006 et tout le trafic sortant
vers 15001. C'est grâce à elles que, sur un vrai maillage, `curl localhost:8080` passe en réalité par le
proxy sans que l'application le sache. Vérifions les deux points :
""", en="""
`Address already in use`: the port already belongs to `api-app`. In a real pod the offending
container would crash at start-up and restart over and over (`CrashLoopBackOff`). That is why Istio
keeps Envoy on ports in the 15000–15090 range, which applications do not use.

**What the sandbox shows, and what it does not.** Here `istio-proxy` is not a real Envoy: it is a
plain TCP listener on its declared ports (the sandbox's image rule). It accepts connections, but it
does not speak HTTP and relays nothing to the application. And the centrepiece of Istio is missing:
the `istio-init` init container that installs, in the pod's namespace, iptables rules sending all
inbound traffic to 15006 and all outbound traffic to 15001. Those rules are why, in a real mesh,
`curl localhost:8080` actually goes through the proxy without the application knowing. Let us check
both points:
"""),
    code("""
inbound = lab.probe("web-frontend-pod", f"{api['status']['podIP']}:15006")
print(inbound.summary(timing=False))
assert inbound.ok and inbound.responder == "api-service"

pod_nat = lab.exec("api-service", "iptables-save -t nat", container="api-app").stdout
assert "ISTIO" not in pod_nat and not [r for r in pod_nat.splitlines() if r.startswith("-A ")]
say(fr="Aucune règle NAT dans l'espace de noms de api-service : pas de redirection façon istio-init, "
       "le trafic ne passe par le port 15006 que si on l'y envoie.",
    en="No NAT rule in api-service's namespace: no istio-init style redirection, traffic only reaches "
       "port 15006 when it is sent there.")
"""),
    md(fr="""
Ce que cet espace de noms partagé permet à un vrai maillage de services (chiffrement mTLS entre pods,
routage fin, métriques) repose donc sur deux faits que vous venez de voir pour de vrai : le proxy vit
dans le même espace de noms que l'application, et il peut y écouter sur ses propres ports. La
redirection, elle, est affaire de règles iptables que seul un vrai Istio (sur kind, par exemple) pose.

## Ce qu'il faut retenir

- Un pod a son propre **espace de noms réseau** : `lo`, un `eth0` (bout d'une paire veth) avec l'adresse
  du pod, une route par défaut vers la passerelle `.1` de la tranche du nœud, le `resolv.conf` du DNS
  du cluster, ses propres ports.
- Sur le nœud, `ip netns list` montre les espaces de noms `cni-…` des pods, `ip -n NOM` les inspecte,
  `eth0@ifN` dans le pod désigne le veth d'index N du nœud, et une route `/32 … scope host` mène à
  chaque pod local.
- Pour un « je n'atteins pas X » : `ip route get` dans le pod, puis sur chaque nœud du chemin ; le premier
  maillon qui ne donne pas la bonne sortie est le coupable.
- Une capture bornée montre les adresses réelles des pods sur le fil : pas de NAT entre pods.
- Les conteneurs d'un pod partagent adresse, ports et `localhost` : ils se parlent par la boucle
  locale, et ne peuvent pas écouter sur le même port. Un sidecar comme Envoy en profite ; la
  redirection transparente d'Istio, elle, vient de règles iptables ajoutées dans le pod.

## Exercices

1. Quel est le nom du veth, sur son nœud, qui forme une paire avec l'`eth0` de `nginx-pod` ? Mettez-le
   dans `answer_1`.
2. Vers quelle adresse le nœud de `web-frontend-pod` envoie-t-il un paquet destiné à `nginx-pod` ?
   Mettez-la, sous forme de texte, dans `answer_2`.
3. `ss -ltn`, lancé dans le conteneur `api-app`, affiche trois ports en écoute. Lesquels appartiennent
   en fait à l'**autre** conteneur ? Mettez-les dans `answer_3`, sous forme de liste de nombres.
""", en="""
What this shared namespace lets a real service mesh do (mTLS encryption between pods, fine-grained
routing, metrics) therefore rests on two facts you have just seen for real: the proxy lives in the
application's namespace, and it can listen there on ports of its own. The redirection is a matter of
iptables rules that only a real Istio (on kind, for example) installs.

## Key points

- A pod has a **network namespace** of its own: `lo`, an `eth0` (one end of a veth pair) with the
  pod's address, a default route to the `.1` gateway of its node's slice, the cluster DNS in
  `resolv.conf`, its own ports.
- On the node, `ip netns list` shows the pods' `cni-…` namespaces, `ip -n NAME` inspects them,
  `eth0@ifN` in the pod names the node's veth with index N, and a `/32 … scope host` route leads to
  every local pod.
- For "I cannot reach X": `ip route get` in the pod, then on each node along the way; the first hop
  that does not give the right way out is the culprit.
- A bounded capture shows the pods' real addresses on the wire: no NAT between pods.
- The containers of a pod share an address, ports and `localhost`: they talk over the loopback, and
  they cannot listen on the same port. A sidecar such as Envoy builds on that; Istio's transparent
  redirection comes from iptables rules added inside the pod.

## Exercises

1. What is the name of the veth, on its node, that pairs with `nginx-pod`'s `eth0`? Put it in
   `answer_1`.
2. To which address does `web-frontend-pod`'s node send a packet meant for `nginx-pod`? Put it, as
   text, in `answer_2`.
3. `ss -ltn`, run in the `api-app` container, shows three listening ports. Which of them actually
   belong to the **other** container? Put them in `answer_3`, as a list of numbers.
"""),
    code("""
from k8snet_tutorial.exercises import check

answer_1 = None  # for example "veth1a2b3c4d"
_, nginx_peer = veth_pairs(lab.exec("nginx-pod", "ip -o link show eth0").stdout)["eth0"]
nginx_links = veth_pairs(lab.node_exec(nginx_node, "ip -o link show type veth").stdout)
check(answer_1, expected=next(name for name, (index, _) in nginx_links.items() if index == nginx_peer))
"""),
    code("""
answer_2 = None  # for example "172.18.0.9"
check(answer_2, expected=re.search(r" via (\\S+) ", lab.node_exec(web_node, f"ip route get {nginx_ip}").stdout).group(1))
"""),
    code("""
answer_3 = None  # for example [8080]
proxy_ports = [p["containerPort"] for c in api["spec"]["containers"] if c["name"] == "istio-proxy" for p in c["ports"]]
check(answer_3, expected=proxy_ports)
"""),
]

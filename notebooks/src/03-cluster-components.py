"""Chapter 3 — cluster components: what the CNI plugin does when a pod starts, and how kube-proxy turns a Service
into kernel rules (iptables mode, nftables mode, IPVS), with the scaling figures of benchmarks/proxy_bench.py."""
from build import code, md

CELLS = [
    md(fr="""
# Chapitre 3 — Les composants du réseau : le plugin CNI et kube-proxy

Le chapitre 1 a posé les promesses du modèle (une IP par pod, pas de NAT, un réseau plat) et le
chapitre 2 a montré les Services à l'œuvre. Reste à savoir **qui** tient ces promesses. Deux
composants font l'essentiel du travail sur chaque nœud :

- le **plugin CNI**, appelé à la naissance de chaque pod : il lui donne une adresse, le branche au
  nœud et pose les routes ;
- **kube-proxy**, qui traduit chaque Service en règles du noyau : un paquet envoyé à une adresse
  ClusterIP repart vers l'un des pods du Service.

(Le troisième membre de l'équipe, le DNS du cluster, a son propre chapitre : le 4.)

**À la fin de ce chapitre, vous saurez :**
- retrouver sur un nœud ce que le plugin CNI a fait pour un pod : son adresse, sa paire veth, ses routes ;
- situer les principaux plugins CNI les uns par rapport aux autres ;
- lire les règles iptables de kube-proxy pour un Service et expliquer ses probabilités 1/3, 1/2… ;
- lire le même Service en mode nftables, avec sa table de verdicts ;
- expliquer pourquoi, à 10 000 Services, le premier paquet ralentit en mode iptables et pas en mode nftables ;
- savoir où regarder quand un Service ne répond pas.
""", en="""
# Chapter 3 — Cluster components: the CNI plugin and kube-proxy

Chapter 1 laid down the model's promises (one IP per pod, no NAT, a flat network) and chapter 2 put
Services to work. What is left is to see **who** keeps those promises. Two components do most of the
work on every node:

- the **CNI plugin**, called whenever a pod is born: it gives the pod an address, plugs it into the
  node and sets up the routes;
- **kube-proxy**, which turns every Service into kernel rules, so that a packet sent to a ClusterIP
  is sent on to one of the Service's pods.

(The third member of the team, the cluster DNS, gets chapter 4 to itself.)

**By the end of this chapter you will be able to:**
- find on a node what the CNI plugin did for a pod: its address, its veth pair, its routes;
- place the main CNI plugins relative to one another;
- read kube-proxy's iptables rules for a Service and explain its probabilities 1/3, 1/2…;
- read the same Service in nftables mode, with its verdict map;
- explain why, at 10,000 Services, the first packet slows down in iptables mode and not in nftables mode;
- know where to look when a Service does not answer.
"""),
    md(fr="""
## Démarrer le laboratoire

Un cluster propre, puis les deux manifestes de `manifests/03-cluster-components/` : un pod `client`
équipé d'outils réseau, et `my-service`, un Deployment de trois réplicas nginx avec le Service du
même nom devant eux.
""", en="""
## Start the lab

A clean cluster, then the two manifests of `manifests/03-cluster-components/`: a `client` pod full of
network tools, and `my-service`, a Deployment of three nginx replicas with a Service of the same name
in front of them.
"""),
    code("""
from k8snet_tutorial import Lab

lab = Lab.up(fresh=True)
lab.apply("manifests/03-cluster-components/")
"""),
    code("""
lab.kubectl("get pods -o wide")
"""),
    md(fr="""
## Partie 1 — Ce que fait le plugin CNI quand un pod démarre

Quand l'ordonnanceur place un pod sur un nœud, le kubelet de ce nœud demande au runtime de conteneurs
de lui créer un espace de noms réseau, vide : pas d'interface à part `lo`. Le runtime appelle alors le plugin CNI
(*Container Network Interface*) avec la commande `ADD`, en lui donnant le chemin de cet espace de
noms. Le plugin fait trois choses :

1. **IPAM** (gestion des adresses) : il choisit une adresse libre dans la tranche du nœud (son podCIDR) ;
2. **la paire veth** : il crée deux interfaces reliées comme les deux bouts d'un câble, glisse
   l'une dans le pod sous le nom `eth0` et laisse l'autre sur le nœud (`vethXXXXXXXX`) ;
3. **les routes** : dans le pod, une route par défaut vers le nœud ; sur le nœud, une route vers
   l'adresse du pod par ce veth.

Il rend l'adresse choisie au runtime, et le kubelet la publie dans `status.podIP`. À la suppression
du pod, la commande `DEL` défait tout. Sur kind, ce plugin est **kindnet** ; dans le bac à sable, le
plan de contrôle du laboratoire fait les mêmes gestes avec les mêmes outils (`ip link add … type veth`),
selon la disposition de kindnet. Allons voir le travail, en partant du pod `client`.
""", en="""
## Part 1 — What the CNI plugin does when a pod starts

When a pod is scheduled onto a node, the kubelet asks the container runtime to make it a network
namespace, an empty one: no interface but `lo`. The runtime then calls the CNI plugin (*Container
Network Interface*) with the `ADD` command, handing it that namespace's path. The plugin does three
things:

1. **IPAM** (IP address management): it picks a free address in the node's slice (its podCIDR);
2. **the veth pair**: it creates two interfaces joined like the two ends of a cable, slips one into
   the pod under the name `eth0` and leaves the other on the node (`vethXXXXXXXX`);
3. **the routes**: inside the pod, a default route to the node; on the node, a route to the pod's
   address through that veth.

It hands the chosen address back to the runtime, and the kubelet publishes it in `status.podIP`.
When the pod is deleted, the `DEL` command undoes it all. On kind this plugin is **kindnet**; in the
sandbox, the lab's control plane makes the same moves with the same tools (`ip link add … type
veth`), following kindnet's layout. Let us go and look at the work, starting from the `client` pod.
"""),
    code("""
import ipaddress

client = next(p for p in lab.pods() if p["metadata"]["name"] == "client")
node = client["spec"]["nodeName"]
client_ip = client["status"]["podIP"]
node_cidr = next(n["spec"]["podCIDR"] for n in lab.objects("Node") if n["metadata"]["name"] == node)
print(f"client: {client_ip} @ {node} (podCIDR {node_cidr})")
assert ipaddress.ip_address(client_ip) in ipaddress.ip_network(node_cidr), "IPAM takes addresses from the node's range"
"""),
    md(fr="""
C'est l'**IPAM** : l'adresse du pod vient de la tranche de son nœud. Côté pod maintenant, l'interface
et les routes qu'il a reçues :
""", en="""
That is **IPAM** at work: the pod's address comes from its node's slice. Now the pod's side: the
interface and the routes it was given:
"""),
    code("""
lab.exec("client", "ip -4 addr show eth0")
"""),
    code("""
lab.exec("client", "ip route")
"""),
    md(fr="""
Le pod ne connaît qu'un chemin : sa passerelle, la première adresse de la tranche (`.1`), joignable
directement par `eth0` (`scope link`). Tout ce qui sort du pod passe donc par le câble virtuel. Le nom
`eth0@if3` dit où mène l'autre bout : à l'interface numéro 3… d'un **autre** espace de noms, celui du
nœud (`link-netnsid 0`). Regardons les veth du nœud :
""", en="""
The pod knows one way out: its gateway, the first address of the slice (`.1`), reachable straight
through `eth0` (`scope link`). Everything leaving the pod goes down the virtual cable. The name
`eth0@if3` says where the other end is: interface number 3… in **another** namespace, the node's
(`link-netnsid 0`). Let us list the node's veths:
"""),
    code("""
lab.node_exec(node, "ip -o link show type veth")
"""),
    md(fr="""
Une ligne par veth. `eth0` est le lien du nœud lui-même vers le réseau des nœuds (sur kind aussi :
un nœud kind est un conteneur, branché au pont Docker par une paire veth). Les autres, `vethXXXXXXXX@if2`,
sont les bouts côté nœud des pods qui tournent ici : `@if2` désigne l'`eth0` de chaque pod (l'index 1
est `lo`), et `link-netns cni-…` nomme l'espace de noms du pod, tel que le runtime l'a épinglé sous
`/run/netns` (sur kind, c'est containerd qui le fait). Et la table de routage du nœud :
""", en="""
One line per veth. `eth0` is the node's own link to the node network (on kind too: a kind node is a
container, plugged into Docker's bridge by a veth pair). The others, `vethXXXXXXXX@if2`, are the
node-side ends for the pods running here: `@if2` names each pod's `eth0` (index 1 is `lo`), and
`link-netns cni-…` names the pod's namespace, as the runtime pinned it under `/run/netns` (on kind,
containerd does that). And the node's routing table:
"""),
    code("""
lab.node_exec(node, "ip route")
"""),
    md(fr="""
Deux sortes de routes : une route `/32` par pod local, vers son veth (`scope host`), posée par le
plugin CNI à la naissance du pod ; et une route par tranche des **autres** nœuds, via leur adresse,
que nous avions vue au chapitre 1. Relions les points par le code : l'`eth0` du pod, son pair sur
le nœud, et la route qui y mène.
""", en="""
Two kinds of routes: one `/32` route per local pod, to its veth (`scope host`), laid down by the CNI
plugin when the pod was born; and one route per slice of the **other** nodes, through their
addresses, which we met in chapter 1. Let us join the dots in code: the pod's `eth0`, its peer on the
node, and the route that leads there.
"""),
    code("""
import re

LINK = re.compile(r"^(\\d+): ([\\w.-]+)@if(\\d+):", re.M)  # "3: vethbbf4b3e0@if2: <…"

def veth_pairs(text):
    \"\"\"{interface name: (its index, its peer's index)} from `ip -o link` output.\"\"\"
    return {name: (int(index), int(peer)) for index, name, peer in LINK.findall(text)}

pod_side = veth_pairs(lab.exec("client", "ip -o link show eth0").stdout)
node_side = veth_pairs(lab.node_exec(node, "ip -o link show type veth").stdout)
eth0_index, peer_index = pod_side["eth0"]
veth = next(name for name, (index, _) in node_side.items() if index == peer_index)
print(f"client eth0 (ifindex {eth0_index}) <-> {node} {veth} (ifindex {peer_index})")
assert veth.startswith("veth") and node_side[veth][1] == eth0_index

route = f"{client_ip} dev {veth} scope host"
assert route in lab.node_exec(node, "ip route").stdout
print(f"{node}: ip route has '{route}'")
"""),
    md(fr="""
Les trois gestes du plugin CNI sont là, vérifiés : une adresse prise dans la tranche du nœud, un câble
virtuel dont on a retrouvé les deux bouts, et les routes qui font passer le trafic par ce câble dans
les deux sens.

## Partie 2 — Quel plugin CNI ?

Tous les plugins CNI tiennent les mêmes promesses (une adresse par pod, des pods joignables d'un nœud
à l'autre sans NAT), mais par des chemins différents. Les grandes familles :

| Plugin | Comment les pods de deux nœuds se parlent | NetworkPolicy | Où on le croise |
|---|---|---|---|
| **kindnet** | de simples routes entre nœuds (celles vues plus haut), sans encapsulation | oui, depuis kind v0.24 | le plugin par défaut de kind : labos, CI |
| **Flannel** | un réseau superposé VXLAN (ou des routes directes en mode `host-gw`) | non, à lui seul | des clusters simples qui veulent juste que « ça marche » |
| **Calico** | du routage L3 pur, les routes annoncées par BGP ; IP-in-IP ou VXLAN quand le réseau sous-jacent ne les porte pas | oui, très riches (plus ses propres politiques globales) | sur site, en hybride, chez les clouds ; plan de données iptables, nftables ou eBPF |
| **Cilium** | des programmes eBPF dans le noyau ; routage direct ou encapsulation VXLAN/Geneve | oui, jusqu'à la couche 7 (HTTP, gRPC) | grands clusters, observabilité (Hubble) ; il peut remplacer kube-proxy |
| **Weave Net** | un maillage entre nœuds avec son propre overlay, chiffrement en option | oui | d'anciens clusters : le projet n'est plus maintenu depuis la fermeture de Weaveworks (2024) |

Le choix se fait donc sur le réseau dont on dispose (peut-il porter des routes de pods ?), sur la
finesse des politiques voulues et sur le besoin d'observer le trafic. Les plugins CNI tournent
d'habitude comme des pods (un DaemonSet) dans `kube-system` ; voyons ce que ce laboratoire y montre :
""", en="""
The CNI plugin's three moves are all there, and checked: an address from the node's slice, a virtual
cable whose two ends we found, and the routes that send traffic down that cable both ways.

## Part 2 — Which CNI plugin?

Every CNI plugin keeps the same promises (one address per pod, pods reachable from node to node
without NAT), but they get there by different roads. The main families:

| Plugin | How pods on two nodes reach each other | NetworkPolicy | Where you meet it |
|---|---|---|---|
| **kindnet** | plain routes between nodes (the ones above), no encapsulation | yes, since kind v0.24 | kind's default plugin: labs, CI |
| **Flannel** | a VXLAN overlay network (or direct routes in `host-gw` mode) | not on its own | simple clusters that just want it to work |
| **Calico** | pure layer-3 routing, routes announced over BGP; IP-in-IP or VXLAN when the underlying network will not carry them | yes, very rich (plus its own global policies) | on premises, hybrid, in the clouds; iptables, nftables or eBPF data plane |
| **Cilium** | eBPF programs in the kernel; direct routing or VXLAN/Geneve encapsulation | yes, up to layer 7 (HTTP, gRPC) | large clusters, observability (Hubble); it can replace kube-proxy |
| **Weave Net** | a mesh between nodes with an overlay of its own, optional encryption | yes | older clusters: the project has not been maintained since Weaveworks closed down (2024) |

So the choice turns on the network you have (can it carry pod routes?), on how fine-grained your
policies must be, and on how much you need to see of the traffic. CNI plugins usually run as pods (a
DaemonSet) in `kube-system`; let us see what this lab shows there:
"""),
    code("""
lab.kubectl("get pods -n kube-system -o wide")
"""),
    md(fr="""
Sur kind, vous verriez aussi un pod `kindnet-…` et un pod `kube-proxy-…` par nœud, plus etcd, l'API
server et compagnie. Le bac à sable ne montre que CoreDNS : son plugin CNI et son kube-proxy ne sont
pas des pods mais le **plan de contrôle du laboratoire** lui-même, qui pose de vraies interfaces, de
vraies routes et de vraies règles dans les espaces de noms des nœuds, comme vous venez de le voir.

### Scénario : un déploiement multi-cloud avec Calico

Une entreprise fait tourner ses clusters chez deux clouds, AWS et Azure, et veut que le réseau s'y
comporte pareil. Elle choisit Calico partout : la même gestion des adresses, les mêmes politiques
réseau appliquées des deux côtés, du routage BGP entre les nœuds. Quand une application passe d'un
cloud à l'autre, la couche réseau ne change pas de comportement. Les commandes seraient :

```bash
kubectl apply -f <le manifeste de Calico, pour votre version>
kubectl get pods -n kube-system -l k8s-app=calico-node
```

Ce scénario demande deux clusters chez deux clouds et un plugin CNI qu'on installe soi-même : rien
de tout cela n'existe dans le bac à sable, dont le CNI est intégré. Sur kind, il faudrait créer le
cluster avec `disableDefaultCNI: true` avant d'installer Calico. La cellule suivante montre les
commandes sur kind et s'explique ailleurs :
""", en="""
On kind you would also see one `kindnet-…` pod and one `kube-proxy-…` pod per node, plus etcd, the
API server and friends. The sandbox shows only CoreDNS: its CNI plugin and its kube-proxy are not
pods but the **lab's control plane** itself, which lays real interfaces, real routes and real rules
in the nodes' namespaces, as you have just seen.

### Scenario: a multi-cloud deployment with Calico

A company runs its clusters on two clouds, AWS and Azure, and wants the network to behave the same in
both. It picks Calico everywhere: the same address management, the same network policies enforced on
both sides, BGP routing between nodes. When an application moves from one cloud to the other, the
network layer does not change its behaviour. The commands would be:

```bash
kubectl apply -f <Calico's manifest, for your version>
kubectl get pods -n kube-system -l k8s-app=calico-node
```

This scenario needs two clusters on two clouds and a CNI plugin you install yourself: none of that
exists in the sandbox, whose CNI is built in. On kind you would have to create the cluster with
`disableDefaultCNI: true` before installing Calico. The next cell shows the commands on kind and
explains itself elsewhere:
"""),
    code("""
from k8snet_tutorial.i18n import say

if lab.backend_name == "kind":
    print(lab.kubectl("get pods -n kube-system -l app=kindnet -o wide"))
    print(lab.kubectl("get pods -n kube-system -l k8s-app=calico-node"))
else:
    say(fr="Cellule réservée à kind : le bac à sable n'a qu'un plugin CNI, intégré (disposition de kindnet), "
           "ni BGP ni second cloud. Rien à installer ici, rien n'a été modifié.",
        en="kind-only cell: the sandbox has a single, built-in CNI plugin (kindnet's layout), no BGP and "
           "no second cloud. Nothing to install here; nothing was changed.")
"""),
    md(fr="""
## Partie 3 — kube-proxy : un Service devient des règles du noyau

kube-proxy tourne sur chaque nœud. Il **surveille l'API** (les Services et leurs EndpointSlices) et
**programme le filtrage de paquets du nœud** pour qu'une connexion vers `ClusterIP:port` reparte vers
l'un des pods prêts du Service. Il gère aussi l'**affinité de session** quand on la demande (les
requêtes d'un même client vers le même pod). Comme chaque nœud a ses propres règles, un pod atteint
n'importe quel Service sans passer par une passerelle centrale.

Ce laboratoire tourne en **mode iptables**, le mode par défaut. Voici le Service et ses endpoints :
""", en="""
## Part 3 — kube-proxy: a Service becomes kernel rules

kube-proxy runs on every node. It **watches the API** (Services and their EndpointSlices) and
**programs the node's packet filtering** so that a connection to `ClusterIP:port` is sent on to one of
the Service's ready pods. It also handles **session affinity** when asked for it (a client's requests
all going to the same pod). Since every node has its own rules, a pod reaches any Service without a
central gateway in the way.

This lab runs in **iptables mode**, the default. Here are the Service and its endpoints:
"""),
    code("""
lab.kubectl("get service my-service -o wide")
"""),
    code("""
lab.kubectl("get endpoints my-service")
"""),
    code("""
lab.diagram()
"""),
    md(fr="""
### Scénario de dépannage : le Service ne répond pas

Quand un Service ne répond pas, la méthode tient en trois questions : kube-proxy tourne-t-il ?
a-t-il écrit des règles pour ce Service ? ces règles mènent-elles aux bons pods ?

**1. kube-proxy tourne-t-il ?** Sur un vrai cluster, on cherche ses pods puis on lit ses journaux :
""", en="""
### Troubleshooting scenario: the Service does not answer

When a Service does not answer, the method fits in three questions: is kube-proxy running? has it
written rules for this Service? do those rules lead to the right pods?

**1. Is kube-proxy running?** On a real cluster you look for its pods, then read their logs:
"""),
    code("""
lab.kubectl("get pods -n kube-system -l k8s-app=kube-proxy")
"""),
    code("""
proxies = lab.kubectl("get pods -n kube-system -l k8s-app=kube-proxy -o name").stdout.split()
if proxies:
    print(lab.kubectl(f"logs -n kube-system {proxies[0]} --tail=15"))
else:
    say(fr=f"Pas de pod kube-proxy ici : dans le bac à sable, le rôle de kube-proxy est tenu par le plan de "
           f"contrôle du laboratoire, qui écrit les règles dans chaque nœud (mode {lab.status().proxy_mode}). "
           f"Pas de journaux à lire : on passe directement aux règles.",
        en=f"No kube-proxy pod here: in the sandbox, kube-proxy's job is done by the lab's control plane, which "
           f"writes the rules into every node ({lab.status().proxy_mode} mode). No logs to read: on to the rules.")
"""),
    md(fr="""
**2. Y a-t-il des règles pour ce Service ?** Sur le nœud (sur un vrai cluster : `ssh` sur le nœud,
puis `sudo` ; sur kind : `docker exec`), on filtre la sortie d'`iptables-save` sur le nom du Service, que kube-proxy écrit dans
le commentaire de chaque règle :
""", en="""
**2. Are there rules for this Service?** On the node (on a real cluster: `ssh` to the node, then
`sudo`; on kind: `docker exec`), filter `iptables-save`'s output on the Service's name, which kube-proxy writes into every
rule's comment:
"""),
    code("""
lab.node_exec(node, "sh -c 'iptables-save -t nat | grep my-service'")
"""),
    md(fr="""
**3. Où mènent-elles ?** `iptables-save` range les chaînes par ordre alphabétique ; un paquet, lui,
les parcourt dans un autre ordre. Suivons-le :

1. la chaîne `KUBE-SERVICES` (appelée depuis `PREROUTING` et `OUTPUT`) compare la destination avec
   chaque Service ; la règle `-d <ClusterIP>/32 … --dport 80` de `my-service` l'envoie vers `KUBE-SVC-…` ;
2. `KUBE-SVC-…` tire au sort un endpoint avec le module `statistic` et saute vers sa chaîne `KUBE-SEP-…` ;
3. `KUBE-SEP-…` fait la **DNAT** : la destination devient l'adresse du pod choisi, port 80.

Le code suivant refait ce parcours à partir de la sortie complète, et vérifie chaque étape :
""", en="""
**3. Where do they lead?** `iptables-save` lists the chains in alphabetical order; a packet goes
through them in another order. Let us follow it:

1. the `KUBE-SERVICES` chain (called from `PREROUTING` and `OUTPUT`) compares the destination with
   every Service; `my-service`'s rule `-d <ClusterIP>/32 … --dport 80` sends it to `KUBE-SVC-…`;
2. `KUBE-SVC-…` draws one endpoint at random with the `statistic` module and jumps to its `KUBE-SEP-…` chain;
3. `KUBE-SEP-…` does the **DNAT**: the destination becomes the chosen pod's address, port 80.

The code below walks the same way through the full output, checking every step:
"""),
    code("""
nat = lab.node_exec(node, "iptables-save -t nat").stdout.splitlines()
service = next(s for s in lab.objects("Service", "default") if s["metadata"]["name"] == "my-service")
cluster_ip = service["spec"]["clusterIP"]
pod_by_ip = {p["status"]["podIP"]: p["metadata"]["name"] for p in lab.pods(selector="app=my-service")}

entry = next(r for r in nat if r.startswith("-A KUBE-SERVICES ") and f"-d {cluster_ip}/32" in r)
svc_chain = entry.split(" -j ")[-1]
print(f"KUBE-SERVICES: {cluster_ip}:80 -> {svc_chain}")
rows = []
for rule in nat:
    if rule.startswith(f"-A {svc_chain} ") and "-j KUBE-SEP-" in rule:
        found = re.search(r"--probability (\\S+)", rule)
        sep_chain = rule.split(" -j ")[-1]
        dnat = next(r for r in nat if r.startswith(f"-A {sep_chain} ") and "-j DNAT" in r)
        destination = dnat.split("--to-destination ")[-1]
        rows.append((found.group(1) if found else None, sep_chain, destination))
        print(f"  {found.group(1) if found else '(the rest)':<14} -> {sep_chain} -> DNAT {destination:<14}"
              f" {pod_by_ip[destination.split(':')[0]]}")

assert [p for p, _, _ in rows] == ["0.33333333349", "0.50000000000", None]
assert sorted(d for _, _, d in rows) == sorted(f"{ip}:80" for ip in pod_by_ip)
"""),
    md(fr="""
### Pourquoi 1/3 puis 1/2 donnent des parts égales

Les règles de `KUBE-SVC-…` sont essayées **dans l'ordre**, et chacune ne voit que les connexions que
les précédentes ont laissé passer :

- la première prend 1/3 des nouvelles connexions ;
- la deuxième prend la moitié de ce qui reste, soit 1/2 × 2/3 = 1/3 ;
- la troisième, sans probabilité, prend tout le reste : 1/3.

Avec *n* endpoints, la règle *i* (en comptant à partir de 0) a la probabilité 1/(*n* − *i*), et chacun
reçoit 1/*n*. Vérifions avec les valeurs lues sur le nœud :
""", en="""
### Why 1/3 then 1/2 give equal shares

The rules of `KUBE-SVC-…` are tried **in order**, and each one only sees the connections the earlier
ones let through:

- the first takes 1/3 of new connections;
- the second takes half of what is left, that is 1/2 × 2/3 = 1/3;
- the third, with no probability, takes everything else: 1/3.

With *n* endpoints, rule *i* (counting from 0) has probability 1/(*n* − *i*), and each one gets 1/*n*.
Let us check with the values read on the node:
"""),
    code("""
left = 1.0
for probability, sep_chain, destination in rows:
    share = left * (float(probability) if probability else 1.0)
    left -= share
    print(f"{destination:<14} gets {share:.9f} of new connections")
    assert abs(share - 1 / 3) < 1e-9
"""),
    md(fr="""
Et pourquoi `0.33333333349` plutôt que `0.3333333333` ? kube-proxy écrit bien 1/3 avec dix
décimales, mais le noyau garde la probabilité sous forme d'un entier sur 2³¹ ; `iptables-save` relit
cet entier et l'affiche avec onze décimales :
""", en="""
And why `0.33333333349` rather than `0.3333333333`? kube-proxy does write 1/3 with ten decimals, but
the kernel stores the probability as an integer out of 2³¹; `iptables-save` reads that integer back
and prints it with eleven decimals:
"""),
    code("""
written = f"{1 / 3:.10f}"               # what kube-proxy writes
stored = round(float(written) * 2**31)   # what the kernel keeps
printed = f"{stored / 2**31:.11f}"       # what iptables-save shows
print(f"{written} -> {stored} / 2^31 -> {printed}")
assert printed == rows[0][0]
"""),
    md(fr="""
Les noms des chaînes ne sont pas tirés au hasard non plus : `KUBE-SVC-` suivi des 16 premiers
caractères du SHA-256 (en base32) du nom du port de Service et de son protocole, et pour `KUBE-SEP-`
la même chose avec l'adresse de l'endpoint en plus. Deux nœuds, ou deux clusters, donnent donc le
même nom au même Service :
""", en="""
The chain names are not random either: `KUBE-SVC-` followed by the first 16 characters of the SHA-256
(in base32) of the Service port's name and protocol, and for `KUBE-SEP-` the same with the endpoint's
address added. Two nodes, or two clusters, therefore give the same Service the same name:
"""),
    code("""
import base64
import hashlib

def kube_hash(text):
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]

print("KUBE-SVC-" + kube_hash("default/my-service:http" + "tcp"), "=", svc_chain)
assert svc_chain == "KUBE-SVC-" + kube_hash("default/my-service:http" + "tcp")
for _, sep_chain, destination in rows:
    assert sep_chain == "KUBE-SEP-" + kube_hash("default/my-service:http" + "tcp" + destination)
"""),
    md(fr="""
### Suivre une connexion

Une connexion depuis `client` vers `my-service`, puis la trace qu'elle laisse dans le **suivi de
connexions** (conntrack) du nœud de `client` : l'aller part vers l'adresse ClusterIP, le retour revient
d'un pod. C'est la DNAT, prise sur le fait. Le pod choisi change d'une exécution à l'autre : c'est le
tirage au sort qu'on vient de lire.
""", en="""
### Follow one connection

One connection from `client` to `my-service`, then the trace it leaves in the **connection tracking**
table (conntrack) of `client`'s node: the original direction goes to the ClusterIP, the reply comes
back from a pod. That is the DNAT, caught in the act. The chosen pod changes from run to run: that is
the draw we have just read.
"""),
    code("""
probe = lab.probe("client", "my-service")
print(probe.summary(timing=False))
chosen = next(row for row in rows if row[2] == f"{lab.pod_ip(probe.responder)}:80")
print(f"path: KUBE-SERVICES -> {svc_chain} -> {chosen[1]} -> DNAT {chosen[2]}")
print(lab.node_exec(node, f"conntrack -L -p tcp --orig-dst {cluster_ip}").stdout)
assert probe.ok and probe.seen_source == client_ip, "pod to Service: the pod sees the client's own IP"
""", "nbval-ignore-output"),
    md(fr="""
L'entrée conntrack se lit en deux moitiés : `src=<client> dst=<ClusterIP> … dport=80` pour l'aller,
`src=<pod> dst=<client> sport=80` pour le retour. Seul le **premier paquet** d'une connexion parcourt
les règles NAT ; les suivants, dans un sens comme dans l'autre, sont traduits d'après cette entrée.
Retenez ce détail, il comptera pour les mesures de la partie 5.

Un seul tirage ne prouve pas la répartition. Envoyons 60 connexions et vérifions que les trois pods
répondent, chacun une part raisonnable (on ne compare pas des nombres exacts : c'est du hasard). À la
main, ce serait une boucle de `curl` :
""", en="""
The conntrack entry reads in two halves: `src=<client> dst=<ClusterIP> … dport=80` for the original
direction, `src=<pod> dst=<client> sport=80` for the reply. Only the **first packet** of a connection
goes through the NAT rules; the later ones, both ways, are translated from this entry. Keep that detail
in mind: it matters for the measurements of part 5.

One draw does not prove the spreading. Let us open 60 connections and check that all three pods
answer, each a fair share (no exact numbers: this is chance). By hand it would be a `curl` loop:
"""),
    code("""
lab.exec("client", "sh -c 'for i in 1 2 3 4 5 6; do curl -s http://my-service/; echo; done'")
""", "nbval-ignore-output"),
    code("""
from collections import Counter

answers = Counter()
for _ in range(60):
    result = lab.probe("client", "my-service")
    assert result.ok, result.summary(timing=False)
    answers[result.responder] += 1
assert sorted(answers) == sorted(pod_by_ip.values()), answers
assert min(answers.values()) >= 5, answers  # each of the three gets a fair share (1/3 on average)
print(f"60 connections to my-service, answered by all {len(answers)} pods: {', '.join(sorted(answers))}")
"""),
    md(fr="""
### Les règles suivent les réplicas

Le curseur ci-dessous change le nombre de réplicas du Deployment et montre, sous lui, les endpoints
du Service et les règles de kube-proxy sur un nœud, une fois qu'ils ont suivi. Dans JupyterLab, faites-le
glisser ; ici, le code le règle sur 4. Regardez les probabilités : 1/4, 1/3, 1/2, puis le reste.
""", en="""
### The rules follow the replicas

The slider below changes the Deployment's replica count and shows, under it, the Service's endpoints
and kube-proxy's rules on one node, once they have caught up. In JupyterLab, drag it; here the code
sets it to 4. Look at the probabilities: 1/4, 1/3, 1/2, then the rest.
"""),
    code("""
from k8snet_tutorial.widgets import replica_slider

slider = replica_slider(lab, "my-service")
slider.scale(4)
probabilities = re.findall(r"--probability (\\S+)", slider.rules_text)
assert probabilities == ["0.25000000000", "0.33333333349", "0.50000000000"], probabilities
slider
"""),
    md(fr="""
### Quand un Service n'a plus d'endpoints

Dernier cas du dépannage, le plus fréquent : les règles existent, mais aucun pod n'est prêt derrière
(sélecteur faux, pods en échec, Deployment à zéro). Mettons le Deployment à zéro réplica. kube-proxy
remplace alors la DNAT par un **rejet**, dans la table `filter` : le client reçoit tout de suite un
« connexion refusée » au lieu d'attendre dans le vide.
""", en="""
### When a Service has no endpoints left

The last troubleshooting case, and the most common one: the rules exist, but no pod behind them is
ready (a wrong selector, failing pods, a Deployment scaled to zero). Let us scale the Deployment to
zero. kube-proxy then replaces the DNAT with a **reject**, in the `filter` table: the client gets an
immediate "connection refused" instead of waiting in the void.
"""),
    code("""
slider.scale(0)
lab.kubectl("get endpoints my-service")
"""),
    code("""
lab.node_exec(node, "sh -c 'iptables-save | grep my-service'")
"""),
    code("""
refused = lab.probe("client", "my-service")
print(refused.summary(timing=False))
assert refused.outcome == "refused"
"""),
    md(fr="""
Une seule règle reste, et elle le dit en clair : `has no endpoints`. Vu du client, ce rejet ressemble
trait pour trait à un port fermé, d'où le « refused » de la sonde. Remettons trois réplicas :
de nouveaux pods, de nouvelles adresses, de nouvelles chaînes `KUBE-SEP-…`, et le Service répond à
nouveau.
""", en="""
Only one rule is left, and it says so plainly: `has no endpoints`. Seen from the client, this reject
looks exactly like a closed port, hence the probe's "refused". Back to three replicas: new pods,
new addresses, new `KUBE-SEP-…` chains, and the Service answers again.
"""),
    code("""
slider.scale(3)
back = lab.probe("client", "my-service")
assert back.ok and back.responder.startswith("my-service-"), back.summary(timing=False)
assert len(slider.ready_endpoints()) == 3
lab.kubectl("get endpoints my-service")
"""),
    md(fr="""
## Partie 4 — Le même Service en mode nftables

Depuis Kubernetes 1.33, kube-proxy a un mode **nftables** stable, qui s'appuie sur le successeur
d'iptables dans le noyau. Démarrons un second laboratoire, configuré avec `kubeProxyMode: nftables`
(le fichier `kind-config-nftables.yaml`, à la racine du cours), et appliquons-y les mêmes manifestes.
""", en="""
## Part 4 — The same Service in nftables mode

Since Kubernetes 1.33, kube-proxy has a stable **nftables** mode, built on iptables' successor in the
kernel. Let us start a second lab, configured with `kubeProxyMode: nftables` (the file
`kind-config-nftables.yaml`, at the root of the course), and apply the same manifests to it.
"""),
    code("""
lab_nft = Lab.up("k8snet-nft", config="kind-config-nftables.yaml", fresh=True)
lab_nft.apply("manifests/03-cluster-components/")
lab_nft.status()
"""),
    md(fr="""
kube-proxy range tout dans une seule table, `ip kube-proxy`. Elle est longue ; en voici les morceaux
qui comptent pour `my-service` : la chaîne `services` par laquelle passe tout paquet, la table de
verdicts (*verdict map*) `service-ips`, et les chaînes propres au Service.
""", en="""
kube-proxy keeps everything in a single table, `ip kube-proxy`. It is long; here are the parts that
matter for `my-service`: the `services` chain every packet goes through, the `service-ips` verdict
map, and the Service's own chains.
"""),
    code("""
nft_node = next(p for p in lab_nft.pods() if p["metadata"]["name"] == "client")["spec"]["nodeName"]
listing = lab_nft.node_exec(nft_node, "nft list table ip kube-proxy").stdout

def block(text, header):
    \"\"\"The lines of the `nft list` block that starts with `header` (a chain, a map, a set).\"\"\"
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header + " "))
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "}")
    return "\\n".join(lines[start:end + 1])

nft_ip = next(s for s in lab_nft.objects("Service", "default") if s["metadata"]["name"] == "my-service")["spec"]["clusterIP"]
service_chain = re.search(rf"{re.escape(nft_ip)} \\. tcp \\. 80 : goto ([^\\s,]+)", listing).group(1)
endpoint_chains = re.findall(r"\\d+ : goto (endpoint-\\S+?)[, ]", block(listing, f"chain {service_chain}"))
for header in ["chain services", "map service-ips", f"chain {service_chain}", *(f"chain {c}" for c in endpoint_chains)]:
    print(block(listing, header))
"""),
    code("""
nft_pods = {p["status"]["podIP"] for p in lab_nft.pods(selector="app=my-service")}
assert "ip daddr . meta l4proto . th dport vmap @service-ips" in block(listing, "chain services")
assert f"{nft_ip} . tcp . 80 : goto {service_chain}" in block(listing, "map service-ips")
assert "numgen random mod 3 vmap" in block(listing, f"chain {service_chain}")
assert {re.search(r"dnat to ([\\d.]+):80", block(listing, f"chain {c}")).group(1) for c in endpoint_chains} == nft_pods
print(f"{nft_ip}:80 -> {service_chain} -> numgen random mod 3 -> {len(endpoint_chains)} endpoint chains -> DNAT")
"""),
    md(fr="""
La logique est la même (un Service, un tirage, une DNAT), la forme change du tout au tout :

- **plus de liste à parcourir** : la chaîne `services` fait **une seule recherche** dans `service-ips`,
  une table de hachage indexée par le triplet adresse . protocole . port, dont la valeur est un verdict
  (`goto` la chaîne du Service). Qu'il y ait 5 Services ou 10 000, c'est une recherche ;
- **plus de cascade de probabilités** : `numgen random mod 3` tire 0, 1 ou 2 avec les mêmes chances, et
  une petite table de verdicts envoie chaque nombre vers un endpoint.

Et le paquet arrive bien, réparti entre les trois pods :
""", en="""
The logic is the same (one Service, one draw, one DNAT); the shape is completely different:

- **no list to walk**: the `services` chain makes **a single lookup** in `service-ips`, a hash table
  keyed on the triple address . protocol . port, whose value is a verdict (`goto` the Service's
  chain). Whether there are 5 Services or 10,000, it is one lookup;
- **no cascade of probabilities**: `numgen random mod 3` draws 0, 1 or 2 with equal odds, and a small
  verdict map sends each number to one endpoint.

And the packet does get through, spread over the three pods:
"""),
    code("""
nft_answers = Counter()
for _ in range(60):
    result = lab_nft.probe("client", "my-service")
    assert result.ok, result.summary(timing=False)
    nft_answers[result.responder] += 1
assert len(nft_answers) == 3 and min(nft_answers.values()) >= 5, nft_answers
print(f"nftables: 60 connections -> {len(nft_answers)} pods")
print(lab_nft.down())
"""),
    md(fr="""
Le second laboratoire est arrêté ; la suite se passe de nouveau dans le premier.

## Partie 5 — À grande échelle : 100 à 10 000 Services

La différence de forme devient une différence de vitesse quand les Services se comptent par
milliers. Le banc d'essai `benchmarks/proxy_bench.py` l'a mesurée pour de vrai : pour chaque mode et
pour 100, 1 000, 5 000 et 10 000 Services (trois endpoints chacun), dans des espaces de noms Linux non
privilégiés, il

- génère et applique toutes les règles d'un nœud, comme le fait le kube-proxy du bac à sable ;
- applique la différence quand un Service passe de 3 à 4 endpoints ;
- ouvre 200 vraies connexions TCP depuis un pod client vers l'adresse ClusterIP du **dernier**
  Service de la liste, vers celle du **premier**, et vers un pod directement, sans Service ; le temps de
  `connect()` est l'aller-retour du **premier paquet**, le seul qui traverse les règles NAT.

Le notebook ne relance pas ces mesures (une minute et demie de calcul intense) : il lit les chiffres
enregistrés dans `docs/data/kube-proxy-scaling.json`. Pour les refaire sur votre machine :
`make bench`, ou `python -m benchmarks.proxy_bench`.
""", en="""
The second lab is down; what follows happens in the first one again.

## Part 5 — At scale: 100 to 10,000 Services

The difference in shape becomes a difference in speed once Services number in the thousands. The
benchmark `benchmarks/proxy_bench.py` measured it for real: for each mode and for 100, 1,000, 5,000 and
10,000 Services (three endpoints each), in unprivileged Linux namespaces, it

- generates and applies a node's whole ruleset, the way the sandbox's kube-proxy does;
- applies the difference when one Service goes from 3 to 4 endpoints;
- opens 200 real TCP connections from a client pod to the ClusterIP of the **last** Service in the list,
  to that of the **first**, and straight to a pod, no Service involved; the `connect()` time is the
  round trip of the **first packet**, the only one that goes through the NAT rules.

The notebook does not run those measurements again (a minute and a half of heavy work): it reads the
figures stored in `docs/data/kube-proxy-scaling.json`. To take them again on your machine: `make bench`,
or `python -m benchmarks.proxy_bench`.
"""),
    code("""
import json

from k8snet_tutorial.lab import REPO

bench = json.loads((REPO / "docs/data/kube-proxy-scaling.json").read_text())
print(bench["date"], "—", bench["machine"])
print("$", bench["command"])
print(f"{'mode':<9} {'Services':>8} {'full sync':>10} {'1 Service scaled':>17} {'first packet: last Service':>27} {'first Service':>14}")
for r in bench["results"]:
    print(f"{r['mode']:<9} {r['services']:>8,} {r['full_sync']['total_s']:>9.2f}s {r['delta']['total_s']:>16.2f}s"
          f" {r['connect']['last_service']['median_us']:>24.0f} µs {r['connect']['first_service']['median_us']:>11.0f} µs")
"""),
    code("""
import matplotlib.pyplot as plt

def series(mode, pick):
    runs = [r for r in bench["results"] if r["mode"] == mode and "error" not in r]
    return [r["services"] for r in runs], [pick(r) for r in runs]

colours = {"iptables": "tab:red", "nftables": "tab:blue"}
fig, (latency, programming) = plt.subplots(1, 2, figsize=(12, 4.2))
for mode, colour in colours.items():
    latency.plot(*series(mode, lambda r: r["connect"]["last_service"]["median_us"]), "o-", color=colour,
                 label=f"{mode}: last Service")
    latency.plot(*series(mode, lambda r: r["connect"]["first_service"]["median_us"]), "s:", color=colour,
                 alpha=0.6, label=f"{mode}: first Service")
    programming.plot(*series(mode, lambda r: r["full_sync"]["total_s"]), "o-", color=colour, label=f"{mode}: full sync")
    programming.plot(*series(mode, lambda r: r["delta"]["total_s"]), "s:", color=colour, alpha=0.6,
                     label=f"{mode}: one Service scaled")
latency.set(title="first packet (TCP connect), median", ylabel="µs")
programming.set(title="programming the rules", ylabel="seconds", yscale="log")
for ax in (latency, programming):
    ax.set(xscale="log", xlabel="Services (3 endpoints each)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
"""),
    code("""
at = {(r["mode"], r["services"]): r for r in bench["results"] if "error" not in r}
biggest = max(n for mode, n in at if ("iptables", n) in at and ("nftables", n) in at)  # 10,000 unless a run was cut short
ipt, nft = at["iptables", biggest]["connect"], at["nftables", biggest]["connect"]
assert ipt["last_service"]["median_us"] > 3 * ipt["first_service"]["median_us"]  # iptables walks the list
assert abs(nft["last_service"]["median_us"] - nft["first_service"]["median_us"]) < 0.25 * nft["first_service"]["median_us"]
assert ipt["pod_direct"]["median_us"] > 3 * nft["pod_direct"]["median_us"]  # even traffic that is not for a Service pays
print(f"{biggest:,} Services, first packet: iptables {ipt['last_service']['median_us']:.0f} µs (last Service) vs"
      f" {ipt['first_service']['median_us']:.0f} µs (first); nftables {nft['last_service']['median_us']:.0f} µs vs"
      f" {nft['first_service']['median_us']:.0f} µs")
"""),
    md(fr="""
Comment lire ces courbes :

- **Mode iptables, à gauche** : la chaîne `KUBE-SERVICES` contient une règle par port de Service, essayée
  dans l'ordre. Le premier paquet vers le dernier Service est comparé aux 10 000 règles qui le
  précèdent : le temps de connexion grimpe avec le nombre de Services (c'est du O(*n*)). Vers le premier
  Service, il ne bouge pas. Plus surprenant : une connexion **directe vers un pod** paie aussi le prix
  fort, car elle traverse toute la chaîne sans rien y trouver (la règle des NodePorts vient en dernier).
- **Mode nftables** : une recherche dans `service-ips`, quel que soit le nombre de Services (O(1)) ; les
  deux courbes restent à plat.
- **Programmer les règles, à droite** : tout réécrire coûte de plus en plus cher dans les deux modes, d'où
  l'intérêt des mises à jour **incrémentales** : quand un seul Service change, kube-proxy n'écrit que la
  différence. Attention, la courbe nftables « tout réécrire » est pessimiste ici : dans un espace de noms
  non privilégié, une transaction netlink est limitée en taille, donc le bac à sable découpe les grosses
  synchronisations en centaines de `nft -f` qui relisent chacun la table déjà écrite. Le vrai kube-proxy
  envoie tout en une transaction.

Seuls les **nouveaux** paquets paient ce parcours : une connexion établie est traduite d'après conntrack.
Mais un cluster qui ouvre beaucoup de connexions courtes le sent, et c'est ce qui a poussé vers IPVS,
puis vers nftables.
""", en="""
How to read these curves:

- **iptables mode, on the left**: the `KUBE-SERVICES` chain holds one rule per Service port, tried in
  order. The first packet to the last Service is compared with the 10,000 rules ahead of it: connect
  time climbs with the number of Services (that is O(*n*)). To the first Service, it does not move. More
  surprising: a connection **straight to a pod** pays the full price too, since it walks the whole chain
  without finding anything (the NodePort rule comes last).
- **nftables mode**: one lookup in `service-ips`, whatever the number of Services (O(1)); both curves
  stay flat.
- **Programming the rules, on the right**: rewriting everything gets dearer in both modes, hence the
  value of **incremental** updates: when a single Service changes, kube-proxy writes only the
  difference. Mind you, the nftables "rewrite everything" curve is pessimistic here: in an unprivileged
  namespace a netlink transaction is capped in size, so the sandbox cuts big syncs into hundreds of
  `nft -f` runs, each of which reads back the table written so far. The real kube-proxy sends it all in
  one transaction.

Only **new** packets pay for that walk: an established connection is translated from conntrack. But a
cluster that opens many short connections feels it, and that is what pushed people towards IPVS, then
towards nftables.
"""),
    md(fr="""
## Partie 6 — Le mode IPVS

**IPVS** (*IP Virtual Server*) est un répartiteur de charge de couche 4 intégré au noyau. Au lieu d'une
liste de règles, il tient une table de hachage de **services virtuels** (adresse ClusterIP et port),
chacun avec ses **serveurs réels** (les pods). kube-proxy en mode IPVS crée une adresse par Service sur
une interface factice (`kube-ipvs0`) et garde un peu d'iptables (avec ipset) pour le masquage.

| Mode | Pour | Contre |
|---|---|---|
| **iptables** | disponible partout, éprouvé, se lit avec `iptables-save` | recherche linéaire : le premier paquet ralentit avec le nombre de Services ; réécrire tout coûte cher |
| **IPVS** | recherche en temps constant ; plusieurs algorithmes de répartition (`rr`, `lc`, `sh`…) ; mises à jour incrémentales | demande les modules IPVS du noyau ; se lit avec `ipvsadm`, moins connu ; garde de l'iptables pour le reste |
| **nftables** | recherche en temps constant (tables de verdicts) ; mises à jour incrémentales ; tout dans une table, lisible avec `nft` | demande un noyau et un `nft` récents ; stable depuis Kubernetes 1.33 seulement |

Aujourd'hui, nftables offre la recherche en temps constant d'IPVS sans ses lacunes, et c'est vers lui
que va le travail de l'amont. Le bac à sable ne peut pas montrer IPVS : le noyau ne l'offre pas dans un
espace de noms non privilégié. La cellule suivante le vérifie, et sur kind montre les vraies commandes.
""", en="""
## Part 6 — IPVS mode

**IPVS** (*IP Virtual Server*) is a layer-4 load balancer built into the kernel. Instead of a list of
rules it keeps a hash table of **virtual services** (ClusterIP address and port), each with its
**real servers** (the pods). kube-proxy in IPVS mode puts one address per Service on a dummy
interface (`kube-ipvs0`) and keeps a little iptables (with ipset) for masquerading.

| Mode | For | Against |
|---|---|---|
| **iptables** | available everywhere, battle-tested, readable with `iptables-save` | linear lookup: the first packet slows down as Services add up; rewriting everything is costly |
| **IPVS** | constant-time lookup; several balancing algorithms (`rr`, `lc`, `sh`…); incremental updates | needs the kernel's IPVS modules; read with `ipvsadm`, less familiar; still keeps iptables for the rest |
| **nftables** | constant-time lookup (verdict maps); incremental updates; everything in one table, readable with `nft` | needs a recent kernel and `nft`; stable only since Kubernetes 1.33 |

Today nftables gives IPVS's constant-time lookup without its gaps, and it is where upstream's work
now goes. The sandbox cannot show IPVS: the kernel does not offer it inside an unprivileged namespace.
The next cell checks that, and on kind shows the real commands.
"""),
    code("""
if "ipvs" in lab.capabilities.proxy_modes:
    print(lab.kubectl("get pods -n kube-system -l k8s-app=kube-proxy -o wide"))
    proxies = lab.kubectl("get pods -n kube-system -l k8s-app=kube-proxy -o name").stdout.split()
    print(lab.kubectl(f"logs -n kube-system {proxies[0]} --tail=20"))
    if lab.node_exec(node, "sh -c 'command -v ipvsadm'").ok:
        print(lab.node_exec(node, "ipvsadm -Ln"))
    else:
        say(fr=f"ipvsadm n'est pas installé sur {node}. Pour voir IPVS, créez un cluster kind avec "
               "kubeProxyMode: ipvs et installez ipvsadm dans le nœud.",
            en=f"ipvsadm is not installed on {node}. To see IPVS, create a kind cluster with "
               "kubeProxyMode: ipvs and install ipvsadm in the node.")
else:
    say(fr=f"Cellule réservée à kind : ce laboratoire tourne sur le backend « {lab.backend_name} », qui propose "
           f"les modes {' et '.join(sorted(lab.capabilities.proxy_modes))}, pas IPVS (le noyau n'offre pas IPVS "
           "dans un espace de noms non privilégié). Avec Docker et kind, lancez Lab.up(backend=\\"kind\\") pour "
           "l'essayer.",
        en=f"kind-only cell: this lab runs on the {lab.backend_name!r} backend, which offers the "
           f"{' and '.join(sorted(lab.capabilities.proxy_modes))} modes, not IPVS "
           f"({lab.capabilities.notes.get('ipvs', 'not available here')}). With Docker and kind, run "
           "Lab.up(backend=\\"kind\\") to try it.")
"""),
    md(fr="""
## Ce qu'il faut retenir

- Le **plugin CNI** est appelé à chaque naissance de pod : il prend une adresse dans la tranche du
  nœud (IPAM), crée une **paire veth** (`eth0` dans le pod, `vethXXXX` sur le nœud) et pose les routes
  des deux côtés. `eth0@ifN` dans le pod désigne l'interface numéro N du nœud.
- Les plugins diffèrent par leur façon de relier les nœuds (routes, BGP, overlay VXLAN, eBPF) et par
  leurs politiques réseau, pas par les promesses du modèle.
- **kube-proxy** traduit chaque Service en règles sur chaque nœud. En mode iptables :
  `KUBE-SERVICES` → `KUBE-SVC-…` (tirage en cascade 1/*n*, 1/(*n*−1)… qui donne des parts égales) →
  `KUBE-SEP-…` (DNAT vers un pod). Seul le premier paquet d'une connexion parcourt ces règles.
- En mode **nftables**, une table de verdicts (`service-ips`) et `numgen random mod n` remplacent la
  liste et la cascade : la recherche ne dépend plus du nombre de Services.
- Dépannage : kube-proxy tourne-t-il (pods, journaux) ? y a-t-il des règles pour le Service ? mènent-elles
  à des pods ? Un Service sans endpoints se trahit par une règle `REJECT` « has no endpoints ».

## Exercices

1. Prenez le premier pod de `my-service` par ordre alphabétique (la cellule l'affiche). Quel est le nom
   du veth, sur son nœud, qui forme une paire avec son `eth0` ? Mettez-le dans `answer_1`.
2. Passez `my-service` à 4 réplicas (`lab.kubectl("scale deployment my-service --replicas=4")`, ou le
   curseur). Quelle probabilité `iptables-save` affiche-t-il alors sur la **première** règle de la
   chaîne `KUBE-SVC-…` du Service ? Mettez la valeur affichée, sous forme de texte, dans `answer_2`.
3. En mode iptables, un premier paquet vers `my-service` est comparé aux règles de `KUBE-SERVICES`
   l'une après l'autre. À quelle règle de la chaîne (1 pour la première) trouve-t-il la sienne ? Mettez
   ce nombre dans `answer_3`. (Et combien de recherches en mode nftables ?)
""", en="""
## Key points

- The **CNI plugin** is called whenever a pod is born: it takes an address from the node's slice
  (IPAM), creates a **veth pair** (`eth0` in the pod, `vethXXXX` on the node) and sets up routes on
  both sides. `eth0@ifN` in the pod names the node's interface number N.
- Plugins differ in how they join nodes (routes, BGP, VXLAN overlay, eBPF) and in their network
  policies, not in the model's promises.
- **kube-proxy** turns every Service into rules on every node. In iptables mode: `KUBE-SERVICES` →
  `KUBE-SVC-…` (a cascading draw 1/*n*, 1/(*n*−1)… that gives equal shares) → `KUBE-SEP-…` (DNAT to a
  pod). Only the first packet of a connection goes through these rules.
- In **nftables** mode, a verdict map (`service-ips`) and `numgen random mod n` replace the list and the
  cascade: the lookup no longer depends on the number of Services.
- Troubleshooting: is kube-proxy running (pods, logs)? are there rules for the Service? do they lead to
  pods? A Service with no endpoints gives itself away with a `REJECT` rule saying "has no endpoints".

## Exercises

1. Take the first `my-service` pod in alphabetical order (the cell prints it). What is the name of the
   veth, on its node, that pairs with its `eth0`? Put it in `answer_1`.
2. Scale `my-service` to 4 replicas (`lab.kubectl("scale deployment my-service --replicas=4")`, or the
   slider). Which probability does `iptables-save` then show on the **first** rule of the Service's
   `KUBE-SVC-…` chain? Put the value it prints, as text, in `answer_2`.
3. In iptables mode, a first packet to `my-service` is compared with the rules of `KUBE-SERVICES` one
   after the other. At which rule of the chain (1 for the first) does it find its own? Put that number
   in `answer_3`. (And how many lookups in nftables mode?)
"""),
    code("""
from k8snet_tutorial.exercises import check

target = sorted(p["metadata"]["name"] for p in lab.pods(selector="app=my-service"))[0]
print(f"pod: {target}")
answer_1 = None  # for example "veth1a2b3c4d"
target_pod = next(p for p in lab.pods() if p["metadata"]["name"] == target)
_, peer = veth_pairs(lab.exec(target, "ip -o link show eth0").stdout)["eth0"]
target_links = veth_pairs(lab.node_exec(target_pod["spec"]["nodeName"], "ip -o link show type veth").stdout)
check(answer_1, expected=next(name for name, (index, _) in target_links.items() if index == peer))
"""),
    code("""
answer_2 = None  # for example "0.12345678901"
replicas = len(slider.ready_endpoints())
first_rule = f"{round(float(f'{1 / replicas:.10f}') * 2**31) / 2**31:.11f}" if replicas > 1 else "(no probability)"
check(answer_2, expected=first_rule if replicas == 4 else "(scale my-service to 4 replicas first)")
"""),
    code("""
answer_3 = None  # a number
services_chain = [r for r in lab.node_exec(node, "iptables-save -t nat").stdout.splitlines()
                  if r.startswith("-A KUBE-SERVICES ")]
check(answer_3, expected=next(i for i, r in enumerate(services_chain, 1) if f"-d {cluster_ip}/32" in r))
"""),
]

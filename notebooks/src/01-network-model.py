"""Chapter 1 — the Kubernetes network model: one IP per pod, no NAT, a flat routed network."""
from build import code, md

CELLS = [
    md(fr="""
# Chapitre 1 — Le modèle réseau de Kubernetes

Kubernetes promet trois choses à chaque pod, et tout le reste du cours en découle :

1. **une adresse IP à lui**, routable dans tout le cluster ;
2. **pas de NAT entre pods** : l'adresse source d'un paquet arrive intacte chez le destinataire ;
3. **un réseau L3 plat** : chaque nœud sait router vers les pods des autres nœuds, sans passerelle centrale.

**À la fin de ce chapitre, vous saurez :**
- lire l'adresse d'un pod et retrouver de quelle plage de nœud elle vient ;
- vérifier, avec un vrai paquet, qu'un serveur voit l'adresse du pod client et non celle d'un intermédiaire ;
- provoquer volontairement une traduction d'adresse (NAT) pour voir ce qu'elle cache ;
- lire les routes qui relient les nœuds entre eux.

Chaque cellule s'exécute sur un vrai cluster : *kind* si Docker est présent, sinon le *bac à sable*
(le plan de données d'un cluster construit pour de vrai dans des espaces de noms réseau Linux).
""", en="""
# Chapter 1 — The Kubernetes network model

Kubernetes makes every pod three promises, and the rest of this course follows from them:

1. **an IP address of its own**, routable across the whole cluster;
2. **no NAT between pods**: a packet's source address reaches the receiver untouched;
3. **a flat layer-3 network**: every node can route to the pods of every other node, with no central gateway.

**By the end of this chapter you will be able to:**
- read a pod's address and tell which node's range it came from;
- check, with a real packet, that a server sees the client pod's own address rather than a middlebox's;
- switch on address translation (NAT) on purpose and see what it hides;
- read the routes that tie the nodes together.

Every cell runs against a real cluster: *kind* when Docker is available, otherwise the *sandbox*
(a cluster's data plane built for real in Linux network namespaces).
"""),
    md(fr="""
## Démarrer le laboratoire

Une seule cellule démarre le cluster (ou le remet à neuf s'il tourne déjà) : un nœud *control-plane*
et deux *workers*, comme dans `kind-config.yaml`.
""", en="""
## Start the lab

One cell starts the cluster (or gives you a clean one if it is already running): one control-plane node
and two workers, as `kind-config.yaml` describes.
"""),
    code("""
from k8snet_tutorial import Lab

lab = Lab.up(fresh=True)
lab.kubectl("get nodes")
"""),
    code("""
lab.status()
"""),
    md(fr="""
Chaque nœud a une adresse sur le réseau des nœuds (172.18.0.0/16, le réseau Docker de kind) et
reçoit **sa propre tranche /24** de la plage des pods (10.244.0.0/16). Un pod prend son adresse dans
la tranche du nœud qui l'héberge : c'est ce qui rend le routage si simple.
""", en="""
Each node has an address on the node network (172.18.0.0/16, kind's Docker network) and owns
**a /24 slice** of the pod range (10.244.0.0/16). A pod takes its address from the slice of the node
that runs it — which is what keeps routing simple.
"""),
    md(fr="""
## Une adresse IP par pod : la boutique en ligne

Notre exemple est une boutique découpée en microservices — catalogue, panier, authentification,
paiement — chacun dans son pod, dans l'espace de noms `shop`. Le dossier `manifests/01-model/`
contient aussi deux pods isolés, `cart` et `catalog`, pour l'expérience qui suit.
""", en="""
## One IP per pod: the online shop

Our example is a shop split into microservices — catalog, cart, authentication, payment — each in its
own pod, in the `shop` namespace. The folder `manifests/01-model/` also holds two stand-alone pods,
`cart` and `catalog`, for the experiment that follows.
"""),
    code("""
lab.apply("manifests/01-model/")
"""),
    code("""
lab.kubectl("get pods -n shop -o wide")
"""),
    md(fr="""
Quatre pods, quatre adresses différentes. Vérifions-le par le code, et vérifions aussi que chaque
adresse appartient bien à la tranche de son nœud :
""", en="""
Four pods, four different addresses. Let us check that in code, and also that every address
belongs to its node's slice:
"""),
    code("""
import ipaddress

node_ranges = {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in lab.objects("Node")}
shop = lab.pods("shop")
for pod in shop:
    ip, node = pod["status"]["podIP"], pod["spec"]["nodeName"]
    print(f'{pod["metadata"]["labels"]["app"]:<8} {ip:<12} {node:<16} {node_ranges[node]}')
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(node_ranges[node])
assert len({p["status"]["podIP"] for p in shop}) == len(shop) == 4
"""),
    md(fr="""
## Pas de NAT entre pods

Le pod `cart` appelle `catalog` directement par son adresse IP, sans Service ni proxy. Le serveur
du catalogue répond en disant qui il est et **quelle adresse source il a vue**.
""", en="""
## No NAT between pods

The `cart` pod calls `catalog` straight at its IP address — no Service, no proxy. The catalog's
server answers with who it is and **which source address it saw**.
"""),
    code("""
lab.kubectl("get pods -o wide")
"""),
    code("""
catalog_ip = lab.pod_ip("catalog")
lab.exec("cart", f"curl -s http://{catalog_ip}/")
"""),
    code("""
probe = lab.probe("cart", "catalog")
print(probe.summary(timing=False))
assert probe.ok and probe.responder == "catalog"
assert probe.seen_source == lab.pod_ip("cart"), "the catalog should see the cart's own IP"
"""),
    md(fr="""
Le catalogue voit l'adresse du pod `cart` lui-même. Les deux pods ne sont pourtant pas sur le
même nœud : le paquet a quitté un nœud, traversé le réseau des nœuds et été routé vers l'autre,
sans que personne ne réécrive son adresse source.
""", en="""
The catalog sees the `cart` pod's own address. Yet the two pods do not share a node: the packet left
one node, crossed the node network and was routed into the other, and nobody rewrote its source
address on the way.
"""),
    code("""
lab.diagram(highlight=probe)
"""),
    md(fr="""
## Ce que le NAT cacherait : l'exemple de la box Internet

Chez vous, la box donne des adresses privées (192.168.1.x) à l'ordinateur, au téléphone et à la
télévision, et n'a qu'**une** adresse publique. Quand l'ordinateur sort sur Internet, la box
remplace l'adresse source par la sienne et retient la correspondance pour renvoyer la réponse. Le
serveur distant ne voit donc que la box : impossible pour lui de savoir quel appareil lui parle, et
une capture `tcpdump` de son côté ne montre que l'adresse traduite.

Faisons-le pour de vrai : ajoutons sur le nœud de `cart` une règle `MASQUERADE` pour le trafic
qui va vers les pods de l'autre nœud, exactement ce que fait une box.
""", en="""
## What NAT would hide: the home router

At home, the router hands private addresses (192.168.1.x) to the laptop, the phone and the TV, and
owns **one** public address. When the laptop talks to the Internet, the router swaps the source
address for its own and remembers the mapping to bring the reply back. The far-end server only
ever sees the router: it cannot tell which device is talking, and a `tcpdump` on its side shows only
the translated address.

Let us do it for real: on the `cart` pod's node, add a `MASQUERADE` rule for traffic heading to the
other node's pods — exactly what a home router does.
"""),
    code("""
from k8snet_tutorial.i18n import say

cart = next(p for p in lab.pods() if p["metadata"]["name"] == "cart")
catalog = next(p for p in lab.pods() if p["metadata"]["name"] == "catalog")
cart_node, catalog_node = cart["spec"]["nodeName"], catalog["spec"]["nodeName"]
assert cart_node != catalog_node
catalog_range = node_ranges[catalog_node]

masquerade = f"POSTROUTING -s {cart['status']['podIP']}/32 -d {catalog_range} -j MASQUERADE"
lab.node_exec(cart_node, f"iptables -t nat -I {masquerade}")
natted = lab.probe("cart", "catalog")
print(natted.summary(timing=False))
"""),
    code("""
cart_node_ip = cart["status"]["hostIP"]
assert natted.ok and natted.seen_source == cart_node_ip, "with NAT, the catalog sees the node, not the pod"
lab.node_exec(cart_node, f"iptables -t nat -D {masquerade}")
assert lab.probe("cart", "catalog").seen_source == cart["status"]["podIP"]
say(fr=f"avec NAT, le catalogue a vu {natted.seen_source} (le nœud) ; sans NAT, {cart['status']['podIP']} (le pod)",
    en=f"with NAT the catalog saw {natted.seen_source} (the node); without it, {cart['status']['podIP']} (the pod)")
"""),
    md(fr="""
Avec la règle, le catalogue croit parler au **nœud** (172.18.0.x) ; sans elle, il voit le **pod**.
Kubernetes interdit ce masquage entre pods : les politiques réseau (chapitre 7), les journaux et
les captures reposent sur des adresses sources vraies.
""", en="""
With the rule, the catalog believes it is talking to the **node** (172.18.0.x); without it, it sees the
**pod**. Kubernetes forbids this masking between pods: network policies (chapter 7), logs and packet
captures all rely on true source addresses.
"""),
    md(fr="""
## Un réseau L3 plat : les routes des nœuds

Comment le paquet a-t-il trouvé son chemin ? Le plugin CNI de kind (kindnet) installe sur chaque nœud
une route par tranche de pods distante, via l'adresse du nœud qui la possède. Dans le pod, la vue est
plus simple encore : une route par défaut vers son nœud.
""", en="""
## A flat L3 network: the nodes' routes

How did the packet find its way? kind's CNI plugin (kindnet) gives every node one route per remote
pod slice, through the address of the node that owns it. Inside a pod the view is simpler still: a
default route to its node.
"""),
    code("""
lab.node_exec(cart_node, "ip route")
"""),
    code("""
lab.exec("cart", "ip route")
"""),
    code("""
routes = lab.node_exec(cart_node, "ip route").stdout
catalog_node_ip = catalog["status"]["hostIP"]
assert f"{catalog_range} via {catalog_node_ip} dev eth0" in routes
print(f"{cart_node}: {catalog_range} via {catalog_node_ip}")
"""),
    md(fr="""
## Ce qu'il faut retenir

- Chaque pod a **sa propre IP**, prise dans la tranche /24 de son nœud.
- Entre pods, **aucune traduction** : le destinataire voit l'IP réelle de l'émetteur.
- Les nœuds se connaissent par des **routes** simples : pas de passerelle centrale, pas de NAT.
- Les IP des pods changent quand les pods sont recréés : ne les écrivez jamais en dur
  (le chapitre 4 montre comment s'en passer grâce au DNS).

## Exercices

1. Depuis `cart`, appelez le pod `payment` de l'espace de noms `shop` par son IP. Quelle adresse
   source le serveur a-t-il vue ? Mettez votre réponse dans `answer_1` et exécutez la cellule.
2. Sur quel nœud tourne le pod `auth` de `shop`, et par quelle adresse de nœud passe la route qui
   mène à sa tranche depuis le nœud de `cart` ? Mettez l'adresse dans `answer_2`.
""", en="""
## Key points

- Every pod has **its own IP**, taken from its node's /24 slice.
- Between pods there is **no translation**: the receiver sees the sender's real IP.
- Nodes know each other through plain **routes**: no central gateway, no NAT.
- Pod IPs change when pods are recreated: never hard-code them
  (chapter 4 shows how DNS makes them unnecessary).

## Exercises

1. From `cart`, call the `payment` pod of the `shop` namespace at its IP. Which source address did
   the server see? Put your answer in `answer_1` and run the cell.
2. Which node runs the `auth` pod of `shop`, and through which node address does the route to its
   slice go, seen from `cart`'s node? Put that address in `answer_2`.
"""),
    code("""
from k8snet_tutorial.exercises import check

answer_1 = None  # for example "10.244.x.y"
check(answer_1, expected=lab.pod_ip("cart"))
"""),
    code("""
answer_2 = None  # for example "172.18.0.x"
auth = next(p for p in lab.pods("shop") if p["metadata"]["labels"]["app"] == "auth")
check(answer_2, expected=auth["status"]["hostIP"])
"""),
]

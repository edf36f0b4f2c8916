"""Chapter 2 — pods, nodes, Services and the three communication paths."""
from build import code, md

M = "manifests/02-pods-nodes-services"

CELLS = [
    md(fr="""
# Chapitre 2 — Pods, nœuds, Services et les trois chemins de communication

Au chapitre 1, chaque pod avait son adresse et parlait directement aux autres. C'est vrai, mais
fragile : un pod peut disparaître à tout moment et revenir avec une autre adresse. Ce chapitre
ajoute la pièce qui rend le tout utilisable, le **Service**, puis suit le trafic sur les trois
chemins qu'il peut prendre dans un cluster.

**À la fin de ce chapitre, vous saurez :**
- lire sur quels nœuds l'ordonnanceur a placé les pods d'une application ;
- exposer un pod derrière un Service et lire ses points de terminaison (endpoints) ;
- faire passer un Service d'une base de données à une autre sans changer son adresse ;
- distinguer les trois chemins — de pod à pod, de pod à Service, de l'extérieur vers un Service —
  et vérifier chacun avec un vrai paquet.
""", en="""
# Chapter 2 — Pods, nodes, Services and the three communication paths

In chapter 1 every pod had its own address and talked to the others directly. That holds, but it is
fragile: a pod can vanish at any moment and come back with a different address. This chapter adds the
piece that makes the whole thing usable, the **Service**, then follows traffic along the three paths
it can take in a cluster.

**By the end of this chapter you will be able to:**
- read which nodes the scheduler put an application's pods on;
- expose a pod behind a Service and read the Service's endpoints;
- move a Service from one database to another without changing its address;
- tell the three paths apart — pod to pod, pod to Service, outside to Service — and check each one
  with a real packet.
"""),
    md(fr="""
## Démarrer le laboratoire

Comme au chapitre précédent, une cellule suffit : elle démarre le cluster, ou le remet à neuf s'il
tourne déjà. Notez les adresses des trois nœuds, elles serviront à la fin du chapitre.
""", en="""
## Start the lab

As in the previous chapter, one cell is enough: it starts the cluster, or gives you a clean one if it
is already running. Note the three nodes' addresses; you will need them at the end of the chapter.
"""),
    code("""
from k8snet_tutorial import Lab

lab = Lab.up(fresh=True)
lab.status()
"""),
    md(fr="""
## Des pods répartis sur les nœuds

Le pod est la plus petite chose que Kubernetes sait déployer ; il tourne toujours sur un nœud,
machine virtuelle ou physique. Prenons une application web classique :

- trois pods *frontend* avec NGINX ;
- cinq pods *backend* pour l'API (ici un serveur HTTP sur le port 8080 tient le rôle du Node.js de
  l'application réelle) ;
- deux pods PostgreSQL.

Chacun de ces groupes est un Deployment, avec un Service devant. On ne dit nulle part sur quel nœud
placer quoi : c'est le travail de l'ordonnanceur (*kube-scheduler*).
""", en="""
## Pods spread over the nodes

A pod is the smallest thing Kubernetes deploys; it always runs on a node, a virtual or physical
machine. Take a typical web application:

- three *frontend* pods running NGINX;
- five *backend* pods for the API (an HTTP server on port 8080 stands in for the real application's
  Node.js);
- two PostgreSQL pods.

Each group is a Deployment with a Service in front of it. Nowhere do we say which node should run
what: that is the scheduler's job (*kube-scheduler*).
"""),
    code(f"""
lab.apply("{M}/web-app.yaml")
"""),
    code("""
lab.kubectl("get pods -o wide")
"""),
    md(fr="""
La colonne `NODE` dit où chaque pod tourne, et la colonne `IP` le confirme : l'adresse vient de la
tranche du nœud (10.244.1.x pour `k8snet-worker`, 10.244.2.x pour `k8snet-worker2`). Comptons les
pods de chaque groupe par nœud :
""", en="""
The `NODE` column tells where each pod runs, and the `IP` column agrees: the address comes from
that node's slice (10.244.1.x on `k8snet-worker`, 10.244.2.x on `k8snet-worker2`). Let us count
each group's pods per node:
"""),
    code("""
from collections import Counter

web_pods = lab.pods(selector="tier")  # every pod of the web app carries a `tier` label
per_node = Counter((p["metadata"]["labels"]["app"], p["spec"]["nodeName"]) for p in web_pods)
workers = sorted({p["spec"]["nodeName"] for p in web_pods})
print(f'{"":<10}' + "".join(f"{n:>16}" for n in workers))
for app in ("frontend", "backend", "postgres"):
    print(f"{app:<10}" + "".join(f"{per_node[app, n]:>16}" for n in workers))
    assert all(per_node[app, n] > 0 for n in workers), f"{app} should have pods on every worker"
assert sum(per_node.values()) == 3 + 5 + 2
"""),
    md(fr="""
Chaque groupe a des pods sur les deux workers : si un nœud tombe, l'application garde des
réplicas sur l'autre. Et aucun pod sur le nœud *control-plane* ? Ce n'est pas un hasard : kind lui
pose une marque (*taint*) `NoSchedule`, qui tient à l'écart les charges de travail ordinaires.

(Le scénario d'origine réservait les bases de données à des nœuds dédiés avec disques SSD ; il
faudrait pour cela des nœuds étiquetés et un `nodeSelector`. Notre cluster n'a que deux workers
identiques, alors on laisse l'ordonnanceur faire.)
""", en="""
Every group has pods on both workers: if a node goes down, the application keeps replicas on the
other one. And nothing on the *control-plane* node? That is no accident: kind gives it a
`NoSchedule` taint, which keeps ordinary workloads away.

(The original scenario kept the databases on dedicated nodes with SSDs; that would take labelled
nodes and a `nodeSelector`. Our cluster has two identical workers, so we let the scheduler decide.)
"""),
    code("""
lab.kubectl("get nodes -o custom-columns=NAME:.metadata.name,INTERNAL-IP:.status.addresses[0].address,TAINTS:.spec.taints[*].effect")
"""),
    code("""
control_plane = [n["metadata"]["name"] for n in lab.objects("Node")
                 if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"]]
assert not any(p["spec"]["nodeName"] in control_plane for p in web_pods)
lab.diagram(namespace="default")
"""),
    md(fr="""
Le schéma montre chaque nœud avec ses pods et leur adresse, et, à côté, chaque Service avec des
flèches vers ses pods. Nous n'avons plus besoin de cette application : supprimons-la pour que les
schémas suivants restent lisibles.
""", en="""
The picture shows each node with its pods and their addresses, and next to them each Service with
arrows to its pods. We are done with this application: let us delete it so that the next pictures
stay readable.
"""),
    code(f"""
lab.delete("{M}/web-app.yaml")
"""),
    md(fr="""
## Le Service : une adresse qui ne bouge pas

Les adresses que vous venez de lire sont éphémères : un pod recréé en reçoit une nouvelle. Un
**Service** donne à un groupe de pods une identité réseau stable — une adresse ClusterIP et un nom
DNS — et choisit ses pods avec un **sélecteur** d'étiquettes (labels).

Partons d'un pod seul, `nginx-pod`, et exposons-le avec `kubectl expose`, qui fabrique le Service
à notre place.
""", en="""
## The Service: an address that stays put

The addresses you just read are short-lived: a recreated pod gets a new one. A **Service** gives a
group of pods a stable network identity — a ClusterIP address and a DNS name — and picks its pods
with a label **selector**.

Let us start from a single pod, `nginx-pod`, and expose it with `kubectl expose`, which writes the
Service for us.
"""),
    code(f"""
lab.apply("{M}/nginx-pod.yaml")
lab.kubectl("get pod nginx-pod --show-labels")
"""),
    code("""
lab.kubectl("expose pod nginx-pod --name=nginx-service --port=80")
"""),
    code("""
lab.kubectl("get service nginx-service -o wide")
"""),
    code("""
lab.kubectl("get endpoints nginx-service")
"""),
    md(fr="""
`kubectl expose` a recopié l'étiquette du pod (`app=nginx-pod`) dans le sélecteur du Service. Le
contrôleur des endpoints cherche en continu les pods prêts qui correspondent à ce sélecteur et
publie leur adresse et leur port : ici, une seule ligne, celle de `nginx-pod`.

Pour interroger le Service, il nous faut un client dans le cluster. Le fichier `pod-a-pod-b.yaml`
crée `pod-a`, une boîte à outils réseau (image *netshoot*), et `pod-b`, un serveur web qui nous
servira plus loin.
""", en="""
`kubectl expose` copied the pod's label (`app=nginx-pod`) into the Service's selector. The endpoints
controller keeps looking for ready pods that match that selector and publishes their address and
port: here a single line, `nginx-pod`'s.

To query the Service we need a client inside the cluster. The file `pod-a-pod-b.yaml` creates
`pod-a`, a network toolbox (the *netshoot* image), and `pod-b`, a web server we will use later on.
"""),
    code(f"""
lab.apply("{M}/pod-a-pod-b.yaml")
"""),
    code("""
lab.exec("pod-a", "curl -s http://nginx-service")
"""),
    code("""
nginx_svc_ip = lab.kubectl("get service nginx-service -o jsonpath={.spec.clusterIP}").stdout
before = lab.probe("pod-a", "nginx-service")
print(before.summary(timing=False))
assert before.ok and before.responder == "nginx-pod" and before.address == nginx_svc_ip
"""),
    md(fr="""
Le client a appelé un **nom**, `nginx-service` ; le DNS du cluster l'a traduit en adresse ClusterIP,
et c'est `nginx-pod` qui a répondu. Maintenant, supprimons le pod et recréons-le, comme le ferait
une mise à jour ou un nœud en panne :
""", en="""
The client called a **name**, `nginx-service`; the cluster DNS turned it into the ClusterIP address,
and `nginx-pod` answered. Now let us delete the pod and create it again, as an upgrade or a failed
node would:
"""),
    code(f"""
old_ip = lab.pod_ip("nginx-pod")
lab.kubectl("delete pod nginx-pod")
lab.apply("{M}/nginx-pod.yaml")
new_ip = lab.pod_ip("nginx-pod")
print(f"nginx-pod: {{old_ip}} -> {{new_ip}}")
assert new_ip != old_ip
lab.kubectl("get endpoints nginx-service")
"""),
    code("""
after = lab.probe("pod-a", "nginx-service")
print(after.summary(timing=False))
assert after.ok and after.responder == "nginx-pod"
assert after.address == before.address == nginx_svc_ip, "the Service's address must not change"
"""),
    md(fr="""
Le pod a changé d'adresse, l'endpoint a suivi tout seul, et le client n'a rien remarqué : il
parle toujours à la même adresse ClusterIP. C'est tout l'intérêt d'un Service. Le schéma montre le
trajet de la sonde : de `pod-a` vers l'adresse du Service, puis, après la traduction de destination
(DNAT) que les règles de kube-proxy appliquent dès le nœud de départ, vers le pod.
""", en="""
The pod changed address, the endpoint followed on its own, and the client noticed nothing: it still
talks to the same ClusterIP address. That is the whole point of a Service. The picture shows the
probe's path: from `pod-a` to the Service's address, then, after the destination translation (DNAT)
that kube-proxy's rules apply right on the sending node, on to the pod.
"""),
    code("""
lab.diagram(namespace="default", highlight=after)
"""),
    md(fr="""
## Scénario : migrer de MySQL vers PostgreSQL sans interruption

Une équipe veut remplacer sa base MySQL par PostgreSQL sans arrêter l'application. Le Service
`database-service` sera le point fixe pendant toute l'opération. Le plan :

1. faire tourner PostgreSQL à côté de MySQL ;
2. faire pointer `database-service` sur MySQL seulement ;
3. rendre l'application compatible avec les deux bases (hors réseau, on le suppose fait) ;
4. élargir le sélecteur du Service aux deux bases ;
5. retirer MySQL, le Service n'envoie plus le trafic qu'à PostgreSQL.

Deux détails du manifeste méritent l'attention. Les deux bases portent une étiquette commune,
`role: database`, en plus de leur `app` (une clé ne peut avoir qu'une valeur : un pod ne peut pas
être à la fois `app: mysql` et `app: database`). Et MySQL écoute sur 3306, PostgreSQL sur 5432 : le
Service vise donc le **port nommé** `db`, que chaque pod associe à son propre numéro.

Étapes 1 et 2 :
""", en="""
## Scenario: moving from MySQL to PostgreSQL without downtime

A team wants to replace its MySQL database with PostgreSQL without stopping the application. The
`database-service` Service is the fixed point throughout. The plan:

1. run PostgreSQL next to MySQL;
2. point `database-service` at MySQL only;
3. make the application work with both databases (off the network; assume it is done);
4. widen the Service's selector to both databases;
5. retire MySQL, and the Service sends traffic to PostgreSQL alone.

Two details of the manifest deserve a look. Both databases carry a shared label, `role: database`,
besides their `app` (a key holds one value: a pod cannot be both `app: mysql` and `app: database`).
And MySQL listens on 3306 while PostgreSQL listens on 5432, so the Service targets the **named port**
`db`, which each pod maps to its own number.

Steps 1 and 2:
"""),
    code(f"""
lab.apply("{M}/database-migration-1-before.yaml")
"""),
    code("""
lab.kubectl("get pods -l role=database -o wide")
"""),
    code("""
lab.kubectl("get endpoints database-service")
"""),
    code("""
lab.kubectl("describe service database-service")
"""),
    md(fr="""
Deux bases tournent, mais le sélecteur `app=mysql` n'en retient qu'une : un seul endpoint, sur le
port 3306. Vérifions qui répond vraiment. Un pod de Deployment s'appelle
`<deployment>-<empreinte du modèle>-<suffixe>` : en retirant les deux derniers morceaux, on sait
de quel Deployment vient la réponse. Quand un Service a plusieurs endpoints, les règles de
kube-proxy en tirent un au sort pour chaque connexion ; on envoie donc une vingtaine de sondes.
""", en="""
Two databases run, but the selector `app=mysql` keeps only one: a single endpoint, on port 3306.
Let us check who really answers. A Deployment's pod is named
`<deployment>-<template hash>-<suffix>`: drop the last two parts and you know which Deployment
answered. When a Service has several endpoints, kube-proxy's rules pick one at random for each
connection, so we send about twenty probes.
"""),
    code("""
def deployments_answering(service, tries=20):
    \"\"\"Probe a Service from pod-a a bounded number of times; the Deployments whose pods answered.\"\"\"
    seen = set()
    for _ in range(tries):
        r = lab.probe("pod-a", service)
        assert r.ok, r.summary(timing=False)
        seen.add(r.responder.rsplit("-", 2)[0])
    return sorted(seen)

db_probe = lab.probe("pod-a", "database-service")
print(db_probe.summary(timing=False))
db_ip = db_probe.address
answering = deployments_answering("database-service")
print("→", answering)
assert answering == ["mysql"]
"""),
    md(fr="""
Étape 4 : la deuxième version du manifeste ne diffère de la première que par le sélecteur du
Service, devenu `role=database`. On l'applique comme n'importe quelle mise à jour.
""", en="""
Step 4: the second version of the manifest differs from the first only in the Service's selector,
now `role=database`. We apply it like any other update.
"""),
    code(f"""
lab.apply("{M}/database-migration-2-after.yaml")
"""),
    code("""
lab.kubectl("get endpoints database-service")
"""),
    code("""
answering = deployments_answering("database-service")
print("→", answering)
assert answering == ["mysql", "postgresql"]
"""),
    md(fr="""
Deux endpoints, et chacun avec **son** port : 3306 pour MySQL, 5432 pour PostgreSQL. Le client,
lui, appelle toujours `database-service` sur le port 3306 ; c'est le port nommé qui fait la
traduction. Les deux bases répondent désormais.

Étape 5 : on retire MySQL en ramenant son Deployment à zéro réplica.
""", en="""
Two endpoints, each with **its own** port: 3306 for MySQL, 5432 for PostgreSQL. The client still
calls `database-service` on port 3306; the named port does the translation. Both databases now answer.

Step 5: retire MySQL by scaling its Deployment down to zero replicas.
"""),
    code("""
lab.kubectl("scale deployment mysql --replicas=0")
"""),
    code("""
lab.kubectl("get endpoints database-service")
"""),
    code("""
answering = deployments_answering("database-service")
print("→", answering)
assert answering == ["postgresql"]
final = lab.probe("pod-a", "database-service")
assert final.address == db_ip, "the Service kept its address through the whole migration"
print(f"database-service: {db_ip}")
"""),
    md(fr="""
La migration est faite, et l'application n'a jamais changé de cible : même nom, même adresse
ClusterIP, même port. Seul le sélecteur a bougé, et les endpoints l'ont suivi.
""", en="""
The migration is done, and the application never changed its target: same name, same ClusterIP
address, same port. Only the selector moved, and the endpoints followed it.
"""),
    md(fr="""
## Les trois chemins de communication

Un **chemin de communication**, c'est l'itinéraire d'un paquet de sa source à sa destination.
Dans un cluster, il y en a trois principaux :

1. **de pod à pod** : directement, d'une adresse de pod à une autre, sur le même nœud ou non ;
2. **de pod à Service** : un pod appelle un Service (par son nom DNS), qui répartit la charge sur
   ses pods ;
3. **de l'extérieur vers un Service** : un client hors du cluster entre par un NodePort ou un
   LoadBalancer (ou un Ingress, chapitre 6).

### 1. De pod à pod

`pod-a` et `pod-b` ne sont pas sur le même nœud. Le scénario d'origine propose
`ping pod-b` : essayons.
""", en="""
## The three communication paths

A **communication path** is the route a packet takes from its source to its destination. A cluster
has three main ones:

1. **pod to pod**: straight from one pod address to another, on the same node or not;
2. **pod to Service**: a pod calls a Service (by its DNS name), which spreads the load over its pods;
3. **outside to Service**: a client outside the cluster comes in through a NodePort or a
   LoadBalancer (or an Ingress, chapter 6).

### 1. Pod to pod

`pod-a` and `pod-b` are not on the same node. The original scenario suggests `ping pod-b`: let us
try.
"""),
    code("""
lab.kubectl("get pods pod-a pod-b -o wide")
"""),
    code("""
lab.exec("pod-a", "ping -c 1 -W 2 pod-b")
"""),
    md(fr="""
Échec : **le nom d'un pod n'est pas un nom DNS**. Le DNS du cluster connaît les Services (nous y
venons), pas les pods par leur nom. Le message parle d'un échec « temporaire » parce que ce
laboratoire, isolé d'Internet, n'a aucun serveur DNS extérieur à qui demander le nom nu `pod-b` ;
sur un cluster relié à Internet, vous liriez `Name or service not known`. Dans les deux cas, ce nom
n'existe pas. De pod à pod, on passe par l'adresse IP :
""", en="""
It fails: **a pod's name is not a DNS name**. The cluster DNS knows Services (we will get there),
not pods by their names. The message calls the failure "temporary" because this lab, sealed off from
the Internet, has no outside DNS server to ask about the bare name `pod-b`; on a cluster connected to
the Internet you would read `Name or service not known`. Either way, no such name exists. Pod to pod,
you go by IP address:
"""),
    code("""
pod_b_ip = lab.pod_ip("pod-b")
lab.exec("pod-a", f"ping -c 1 -W 2 {pod_b_ip}")
""", "nbval-ignore-output"),
    md(fr="""
(Les temps d'aller-retour changent d'une exécution à l'autre ; la sonde ci-dessous, elle, vérifie
le résultat.) Remarquez le `ttl=62` : le paquet a traversé deux routeurs, le nœud de `pod-a` puis
celui de `pod-b`.
""", en="""
(The round-trip times change from run to run; the probe below is what checks the result.) Notice
`ttl=62`: the packet went through two routers, `pod-a`'s node and then `pod-b`'s.
"""),
    code("""
direct = lab.probe("pod-a", "pod-b")
print(direct.summary(timing=False))
assert direct.ok and direct.responder == "pod-b"
assert direct.seen_source == lab.pod_ip("pod-a"), "pod to pod: no NAT, pod-b sees pod-a's own IP"
lab.diagram(namespace="default", highlight=direct)
"""),
    md(fr="""
### Deux conteneurs, un seul pod : le sidecar de journalisation

Le chemin le plus court de tous reste à l'intérieur d'un pod. Dans une architecture d'agrégation
de journaux, chaque pod applicatif embarque un **sidecar** : le conteneur `app` écrit son journal
dans un volume partagé (`emptyDir`), le conteneur `log-forwarder` le lit et l'enverrait à un service
de journalisation central. Le sidecar monte ce volume en lecture seule.
""", en="""
### Two containers, one pod: the logging sidecar

The shortest path of all stays inside a pod. In a log-aggregation setup, every application pod
carries a **sidecar**: the `app` container writes its log to a shared volume (`emptyDir`), and the
`log-forwarder` container reads it and would ship it to a central logging service. The sidecar
mounts that volume read-only.
"""),
    code(f"""
lab.apply("{M}/sidecar-logging.yaml")
lab.kubectl("get pod app-pod")
"""),
    md(fr="""
`2/2` : deux conteneurs, tous deux prêts. Regardons le réseau depuis chacun d'eux, avec
`ip -brief`, la forme compacte de `ip addr`.
""", en="""
`2/2`: two containers, both ready. Let us look at the network from each of them, with
`ip -brief`, the compact form of `ip addr`.
"""),
    code("""
views = {}
for container in ("app", "log-forwarder"):
    views[container] = lab.exec("app-pod", "ip -brief -4 addr", container=container)
    print(f"--- {container}")
    print(views[container])
assert views["app"].stdout == views["log-forwarder"].stdout
assert lab.pod_ip("app-pod") in views["app"].stdout
"""),
    code("""
netns = {c: lab.exec("app-pod", "readlink /proc/self/ns/net", container=c).stdout for c in views}
assert netns["app"] == netns["log-forwarder"]
print("netns(app) == netns(log-forwarder):", netns["app"] == netns["log-forwarder"])
"""),
    md(fr="""
Mêmes interfaces, même adresse, même espace de noms réseau : les conteneurs d'un pod partagent sa
pile réseau. Ils se joindraient par `localhost`, et deux d'entre eux ne pourraient pas écouter sur
le même port. Le volume, lui, relie leurs fichiers. Le conteneur `app` écrit une ligne :
""", en="""
Same interfaces, same address, same network namespace: the containers of a pod share its network
stack. They would reach each other over `localhost`, and two of them could not listen on the same
port. The volume is what connects their files. The `app` container writes a line:
"""),
    code("""
lab.exec("app-pod", "sh -c 'echo order 1042 paid >> /var/log/app/application.log'", container="app")
lab.exec("app-pod", "ls /var/log/app", container="app")
"""),
    code("""
forwarded = lab.exec("app-pod", "grep order /var/log/app/application.log", container="log-forwarder")
print(forwarded)
assert forwarded.ok and forwarded.stdout.strip() == "order 1042 paid"
"""),
    code("""
lab.exec("app-pod", "touch /var/log/app/x", container="log-forwarder")
"""),
    md(fr="""
Le sidecar lit ce que l'application écrit, mais ne peut rien écrire lui-même : son montage est en
lecture seule. Réseau partagé, volume partagé, mais chaque conteneur garde son propre système de
fichiers et ses propres droits. Aucune configuration réseau n'a été nécessaire.
""", en="""
The sidecar reads what the application writes, but cannot write anything itself: its mount is
read-only. Shared network, shared volume, yet each container keeps its own filesystem and its own
permissions. No network configuration was needed at all.
"""),
    md(fr="""
### 2. De pod à Service, par le nom DNS : la passerelle d'API

Une architecture de microservices place une **passerelle d'API** devant ses services. Les pods de
la passerelle doivent joindre les services d'authentification, d'utilisateurs et de produits (dans
la vraie vie, quinze ou plus). Plutôt que de suivre les adresses de pods, ils appellent des **noms
de Service**, reçus ici par variables d'environnement :
""", en="""
### 2. Pod to Service, by DNS name: the API gateway

A microservice architecture puts an **API gateway** in front of its services. The gateway's pods
must reach the authentication, user and product services (fifteen or more in real life). Rather than
track pod addresses, they call **Service names**, handed to them here as environment variables:
"""),
    code(f"""
lab.apply("{M}/api-gateway.yaml")
"""),
    code("""
lab.kubectl("get services auth-service user-service product-service -o wide")
"""),
    code("""
gateway = lab.pods(selector="app=api-gateway")[0]["metadata"]["name"]
lab.exec(gateway, "sh -c 'env | grep _URL | sort'")
"""),
    code("""
lab.exec(gateway, "nslookup auth-service")
"""),
    md(fr="""
Le nom court `auth-service` a été complété par la liste de recherche du pod en
`auth-service.default.svc.cluster.local`, et le DNS du cluster (10.96.0.10) a répondu avec
l'adresse ClusterIP du Service. La ligne `;; Got recursion not available` est une simple remarque
de `nslookup` : pour les noms du cluster, CoreDNS répond en tant qu'autorité et n'annonce pas de
récursion. Le chapitre 4 détaille tout cela.

Appelons maintenant les trois services avec les URL de la passerelle :
""", en="""
The pod's search list completed the short name `auth-service` into
`auth-service.default.svc.cluster.local`, and the cluster DNS (10.96.0.10) answered with the
Service's ClusterIP address. The line `;; Got recursion not available` is only a remark from
`nslookup`: for the cluster's own names, CoreDNS answers as the authority and does not offer
recursion. Chapter 4 goes into all of this.

Now let us call the three services with the gateway's URLs:
"""),
    code("""
for service, app in (("auth-service", "auth"), ("user-service", "user"), ("product-service", "product")):
    url = f"http://{service}.default.svc.cluster.local"
    cluster_ip = lab.kubectl(f"get service {service} -o jsonpath={{.spec.clusterIP}}").stdout
    for _ in range(4):
        r = lab.probe(gateway, url)
        assert r.ok and r.address == cluster_ip, r.summary(timing=False)
        assert r.responder.startswith(app + "-"), f"{service} should be answered by a pod of {app}"
    print(f"{url:<50} -> {r.address}:{r.port}, answered by {app} pods")
"""),
    md(fr="""
Chaque nom mène à une adresse stable, et derrière elle à l'un des pods du bon Deployment (lequel ?
les règles de kube-proxy le tirent au sort à chaque connexion : voilà pourquoi on n'affiche pas son
nom).
Qu'on ajoute des réplicas, qu'on en remplace ou qu'on les déplace, la passerelle n'a rien à changer.
""", en="""
Every name leads to a stable address, and behind it to one of the right Deployment's pods (which one
is a random pick by kube-proxy's rules for each connection: that is why we do not print its name). Add
replicas, replace them or move them around, and the gateway has nothing to change.
"""),
    md(fr="""
### 3. De l'extérieur vers un Service : NodePort

Reste le trafic venu d'en dehors du cluster. Dans ce laboratoire, la source `"@host"` joue la
machine qui fait tourner kind : elle est branchée sur le réseau des nœuds (172.18.0.0/16) et ne
connaît ni les adresses des pods ni celles des Services.

Le Service `my-nodeport-service` est de type NodePort : il ouvre le port **30080 sur chaque nœud**.
""", en="""
### 3. Outside to Service: NodePort

That leaves traffic from outside the cluster. In this lab the source `"@host"` plays the machine that
runs kind: it sits on the node network (172.18.0.0/16) and knows neither pod addresses nor Service
addresses.

The `my-nodeport-service` Service has type NodePort: it opens port **30080 on every node**.
"""),
    code(f"""
lab.apply("{M}/nodeport-service.yaml")
"""),
    code("""
lab.kubectl("get service my-nodeport-service")
"""),
    code("""
lab.kubectl("get pods -l app=my-app -o wide")
"""),
    md(fr="""
D'abord, ce qui ne marche **pas** depuis l'extérieur : l'adresse d'un pod et l'adresse ClusterIP
du Service. La machine hôte n'a aucune route vers ces plages.
""", en="""
First, what does **not** work from outside: a pod's address and the Service's ClusterIP address.
The host has no route to those ranges.
"""),
    code("""
my_app_ip = lab.pods(selector="app=my-app")[0]["status"]["podIP"]
nodeport_cluster_ip = lab.kubectl("get service my-nodeport-service -o jsonpath={.spec.clusterIP}").stdout
for target in (f"{my_app_ip}:80", f"{nodeport_cluster_ip}:80"):
    r = lab.probe("@host", target)
    print(r.summary(timing=False))
    assert not r.ok
"""),
    md(fr="""
Ensuite, le NodePort, sur l'adresse de chacun des trois nœuds — y compris le control-plane, où ne
tourne pourtant aucun pod `my-app` :
""", en="""
Then the NodePort, on each of the three nodes' addresses — the control-plane included, although no
`my-app` pod runs there:
"""),
    code("""
node_ips = {n["metadata"]["name"]: n["status"]["addresses"][0]["address"] for n in lab.objects("Node")}
for node, ip in node_ips.items():
    r = lab.probe("@host", f"{ip}:30080")
    assert r.ok and r.responder.startswith("my-app-"), r.summary(timing=False)
    print(f"{node:<22} {ip}:30080 -> {r.outcome}, answered by a my-app pod")
"""),
    md(fr="""
Chaque nœud accepte la connexion sur 30080 et la fait suivre à un pod `my-app`, où qu'il soit :
kube-proxy a installé la même règle partout. C'est exactement `curl http://<IP du nœud>:30080`.
Sur ce chemin, contrairement au trafic entre pods, l'adresse source est réécrite en route (avec la
politique par défaut, `externalTrafficPolicy: Cluster`) ; le chapitre 6 regarde ce que le pod voit
alors.
""", en="""
Every node accepts the connection on 30080 and forwards it to a `my-app` pod, wherever it runs:
kube-proxy installed the same rule everywhere. That is exactly `curl http://<node IP>:30080`. On this
path, unlike traffic between pods, the source address gets rewritten on the way (under the default
policy, `externalTrafficPolicy: Cluster`); chapter 6 looks at what the pod sees then.
"""),
    md(fr="""
### 3 bis. De l'extérieur vers un Service : LoadBalancer

Une entreprise publie son application web, trois réplicas, derrière un Service de type
**LoadBalancer** nommé `web-app`. Sur AWS, l'annotation du manifeste demande un *Network Load
Balancer*, qui reçoit une adresse publique. Sur kind, la colonne `EXTERNAL-IP` resterait à
`<pending>` sans un fournisseur comme *cloud-provider-kind* ou MetalLB ; le bac à sable joue ce
rôle et attribue une adresse prise sur le réseau des nœuds.
""", en="""
### 3b. Outside to Service: LoadBalancer

A company publishes its web application, three replicas, behind a Service of type **LoadBalancer**
named `web-app`. On AWS, the manifest's annotation asks for a *Network Load Balancer*, which gets a
public address. On kind, the `EXTERNAL-IP` column would stay `<pending>` without a provider such as
*cloud-provider-kind* or MetalLB; the sandbox plays that part and hands out an address taken from the
node network.
"""),
    code(f"""
lab.apply("{M}/web-app-loadbalancer.yaml")
"""),
    code("""
lab.kubectl("get service web-app")
"""),
    code("""
external_ip = lab.kubectl("get service web-app -o jsonpath={.status.loadBalancer.ingress[0].ip}").stdout
for _ in range(6):
    r = lab.probe("@host", f"{external_ip}:80")
    assert r.ok and r.responder.startswith("web-app-"), r.summary(timing=False)
print(f"{external_ip}:80 -> {r.outcome}, answered by web-app pods (container port 8080)")
"""),
    md(fr="""
Les utilisateurs appellent l'adresse externe sur le port 80 ; le répartiteur envoie chaque
connexion à l'un des trois pods, qui écoutent sur 8080. Remarquez aussi la colonne `PORT(S)` :
`80:3xxxx/TCP`. Un Service LoadBalancer est **aussi** un Service NodePort, et bien des
répartiteurs de cloud livrent leur trafic sur ce port de nœud. Vous le vérifierez dans le premier exercice.
""", en="""
Users call the external address on port 80; the load balancer sends each connection to one of the
three pods, which listen on 8080. Look at the `PORT(S)` column too: `80:3xxxx/TCP`. A LoadBalancer
Service is **also** a NodePort Service, and many cloud load balancers deliver their traffic to that
node port. You will check it in the first exercise.
"""),
    md(fr="""
## À vous de sonder

L'explorateur ci-dessous lance les mêmes sondes que `lab.probe`, au clic : choisissez un pod source,
une destination (pod ou Service), un port, puis « Probe ». Le schéma montre le chemin suivi. Il est
préréglé sur `pod-a` → `nginx-service` ; essayez ensuite `pod-b`, `database-service` ou
`web-app`. (Sans interface Jupyter, par exemple pendant les tests, il s'affiche en texte.)
""", en="""
## Your turn to probe

The explorer below runs the same probes as `lab.probe`, with clicks: pick a source pod, a destination
(pod or Service), a port, then "Probe". The picture shows the path taken. It starts set to `pod-a` →
`nginx-service`; then try `pod-b`, `database-service` or `web-app`. (Without a Jupyter front end,
during tests for instance, it shows as text.)
"""),
    code("""
from k8snet_tutorial.widgets import probe_explorer

explorer = probe_explorer(lab, source="pod-a", target="nginx-service")
result = explorer.probe()  # what the Probe button does
assert result.ok and result.responder == "nginx-pod"
explorer
"""),
    md(fr="""
## Ce qu'il faut retenir

- L'**ordonnanceur** répartit les pods sur les nœuds ; `kubectl get pods -o wide` montre où chacun
  tourne, et son adresse vient de la tranche de son nœud.
- Un **Service** donne un nom et une adresse ClusterIP stables à un groupe de pods choisi par un
  **sélecteur** ; ses **endpoints** suivent les pods prêts, quelles que soient leurs adresses.
- Changer le sélecteur suffit à basculer le trafic (migration MySQL → PostgreSQL) ; un **port
  nommé** permet aux pods d'écouter sur des numéros différents.
- Trois chemins : **de pod à pod** par adresse IP, sans NAT (les conteneurs d'un même pod partagent
  même leur pile réseau) ; **de pod à Service** par nom DNS ; **de l'extérieur** par un NodePort
  (le même port sur chaque nœud) ou un LoadBalancer (une adresse externe, avec un NodePort en prime).

## Exercices

1. Quel port de nœud (NodePort) Kubernetes a-t-il attribué au Service `web-app` ? Mettez ce nombre
   dans `answer_1`, puis vérifiez-le avec une sonde depuis `"@host"` vers l'adresse d'un worker sur
   ce port.
2. Quelle adresse IP a le conteneur `log-forwarder` du pod `app-pod` ? Mettez-la dans `answer_2`.
3. Catastrophe : il faut annuler la migration et revenir à MySQL seul. Faites-le **en une seule
   commande** (indice : un manifeste décrit déjà l'état voulu), puis mettez dans `answer_3` le nom du
   pod qui répond désormais à `database-service`.
""", en="""
## Key points

- The **scheduler** spreads pods over the nodes; `kubectl get pods -o wide` shows where each one
  runs, and its address comes from its node's slice.
- A **Service** gives a group of pods, picked by a **selector**, a stable name and ClusterIP
  address; its **endpoints** follow the ready pods, whatever their addresses.
- Changing the selector is enough to switch traffic over (the MySQL → PostgreSQL move); a **named
  port** lets pods listen on different numbers.
- Three paths: **pod to pod** by IP address, without NAT (the containers of one pod even share
  their network stack); **pod to Service** by DNS name; **from outside** through a NodePort (the same
  port on every node) or a LoadBalancer (an external address, with a NodePort thrown in).

## Exercises

1. Which node port (NodePort) did Kubernetes give the `web-app` Service? Put that number in
   `answer_1`, then check it with a probe from `"@host"` to a worker's address on that port.
2. Which IP address does the `log-forwarder` container of `app-pod` have? Put it in `answer_2`.
3. Disaster: the migration must be rolled back to MySQL alone. Do it **in a single command** (hint: a
   manifest already describes the state you want), then put in `answer_3` the name of the pod that
   now answers `database-service`.
"""),
    code("""
from k8snet_tutorial.exercises import check

answer_1 = None  # a number, for example 30000
web_app = next(s for s in lab.objects("Service", "default") if s["metadata"]["name"] == "web-app")
check(answer_1, expected=web_app["spec"]["ports"][0]["nodePort"])
"""),
    code("""
answer_2 = None  # for example "10.244.x.y"
check(answer_2, expected=lab.pod_ip("app-pod"))
"""),
    code("""
answer_3 = None  # for example "mysql-…"
database = next(s for s in lab.objects("Service", "default") if s["metadata"]["name"] == "database-service")
mysql_pods = [p["metadata"]["name"] for p in lab.pods(selector="app=mysql")]
rolled_back = database["spec"]["selector"] == {"app": "mysql"} and len(mysql_pods) == 1
check(answer_3, expected=mysql_pods[0] if rolled_back else "(not rolled back yet)")
"""),
]
